package ma.sada.analysis;

import org.apache.lucene.analysis.charfilter.MappingCharFilter;
import org.apache.lucene.analysis.charfilter.NormalizeCharMap;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.CharFilterFactory;

import java.io.Reader;

/** Arabic decimal separator and comma to ASCII, so «٤٣٫٢٢» tokenizes like "43.22". */
@NamedComponent("sada_arabic_punct")
public class ArabicPunctuation implements CharFilterFactory {
    private static final NormalizeCharMap MAP;

    static {
        NormalizeCharMap.Builder builder = new NormalizeCharMap.Builder();
        builder.add("\u066B", ".");
        builder.add("\u066C", ",");
        builder.add("\u060C", ",");
        MAP = builder.build();
    }

    @Override
    public Reader create(Reader reader) {
        return new MappingCharFilter(MAP, reader);
    }

    @Override
    public Reader normalize(Reader reader) {
        return create(reader);
    }
}
