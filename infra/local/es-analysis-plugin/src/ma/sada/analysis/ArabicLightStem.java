package ma.sada.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ar.ArabicStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * Light stemming of Arabic prefixes (و ال بال كال فال لل) and common suffixes, so that
 * «بالعقوبات» and «والعقوبات» match «العقوبات».
 */
@NamedComponent("sada_arabic_light_stem")
public class ArabicLightStem implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream in) {
        return new ArabicStemFilter(in);
    }
}
