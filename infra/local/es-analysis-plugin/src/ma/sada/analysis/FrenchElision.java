package ma.sada.analysis;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.util.ElisionFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

import java.util.Arrays;

/** Strips French elided articles (l', d', qu', j', ...) so "l'amende" indexes as "amende". */
@NamedComponent("sada_french_elision")
public class FrenchElision implements TokenFilterFactory {
    private static final CharArraySet ARTICLES = new CharArraySet(
        Arrays.asList("l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"),
        true
    );

    @Override
    public TokenStream create(TokenStream in) {
        return new ElisionFilter(in, ARTICLES);
    }
}
