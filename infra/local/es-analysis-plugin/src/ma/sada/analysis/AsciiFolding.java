package ma.sada.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Accent folding so that "securite" finds "sécurité" (users often type without accents). */
@NamedComponent("sada_asciifolding")
public class AsciiFolding implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream in) {
        return new ASCIIFoldingFilter(in);
    }

    @Override
    public TokenStream normalize(TokenStream in) {
        return create(in);
    }
}
