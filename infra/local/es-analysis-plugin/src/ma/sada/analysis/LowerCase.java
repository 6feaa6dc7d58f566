package ma.sada.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.core.LowerCaseFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lowercasing; the stock "lowercase" filter lives in the analysis-common module this distribution lacks. */
@NamedComponent("sada_lowercase")
public class LowerCase implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream in) {
        return new LowerCaseFilter(in);
    }

    @Override
    public TokenStream normalize(TokenStream in) {
        return create(in);
    }
}
