package ma.sada.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.core.DecimalDigitFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Arabic-Indic digits to ASCII, so «٤٣.٢٢» and "43.22" are one term. */
@NamedComponent("sada_decimal_digit")
public class DecimalDigit implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream in) {
        return new DecimalDigitFilter(in);
    }

    @Override
    public TokenStream normalize(TokenStream in) {
        return create(in);
    }
}
