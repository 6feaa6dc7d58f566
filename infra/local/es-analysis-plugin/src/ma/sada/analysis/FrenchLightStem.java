package ma.sada.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.fr.FrenchLightStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Light stemming: plurals and common inflections ("peines alternatives" ~ "peine alternative"). */
@NamedComponent("sada_french_light_stem")
public class FrenchLightStem implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream in) {
        return new FrenchLightStemFilter(in);
    }
}
