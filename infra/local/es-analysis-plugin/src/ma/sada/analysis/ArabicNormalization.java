package ma.sada.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ar.ArabicNormalizationFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * Arabic orthographic normalization: alef/hamza forms to bare alef, alef maqsura to yaa,
 * teh marbuta to heh, harakat and tatweel removed. Posts spell these freely.
 */
@NamedComponent("sada_arabic_normalization")
public class ArabicNormalization implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream in) {
        return new ArabicNormalizationFilter(in);
    }

    @Override
    public TokenStream normalize(TokenStream in) {
        return create(in);
    }
}
