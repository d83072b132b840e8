package io.ambit.hbone.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.Baggage;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The W3C {@code baggage} parser (ztunnel keeps a fuzz target for it): it never throws, keeps at most 180
 * members, only token keys and control-free values, reads only ASCII (W3C baggage-octet), and what we
 * format parses back to the same entries.
 */
class BaggageFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void anyTextParsesToWellFormedEntries(@ForAll("headers") String header) {
        Baggage parsed = Baggage.parse(header);

        assertThat(parsed.entries()).hasSizeLessThanOrEqualTo(180);
        parsed.entries().forEach((key, value) -> {
            assertThat(key).matches("[A-Za-z0-9!#$%&'*+\\-.^_`|~]+");
            assertThat(value.chars()).noneMatch(Character::isISOControl);
        });
    }

    @Property(seed = FuzzInputs.SEED)
    void parsingWhatWasParsedAndFormattedChangesNothing(@ForAll("headers") String header) {
        Baggage once = Baggage.parse(header);

        assertThat(Baggage.parse(once.format())).isEqualTo(once);
    }

    @Property(seed = FuzzInputs.SEED)
    void formattedEntriesParseBackUnchanged(@ForAll("entries") Map<String, String> entries) {
        Baggage baggage = new Baggage(entries);

        assertThat(Baggage.parse(baggage.format()).entries()).isEqualTo(entries);
    }

    @Property(seed = FuzzInputs.SEED)
    void aMemberWithANonAsciiCharacterIsSkipped(
            @ForAll("entries") Map<String, String> entries, @ForAll("nonAsciiMember") String member) {
        String header = member + "," + new Baggage(entries).format() + "," + member;

        assertThat(Baggage.parse(header).entries()).isEqualTo(entries);
    }

    /** Regression: Character.digit reads Arabic-Indic and full-width digits as hex; baggage is ASCII only. */
    @Example
    void percentEscapesWithNonAsciiDigitsAreRefused() {
        assertThat(Baggage.parse("a=%\u0663\u0663,b=%\uff13\uff11,c=ok").entries())
                .isEqualTo(Map.of("c", "ok"));
    }

    /** Regression: String.strip() removed Unicode spaces around a key; W3C allows only spaces and tabs. */
    @Example
    void unicodeSpaceAroundAKeyIsNotOptionalWhitespace() {
        assertThat(Baggage.parse("\u2003k=v, \tj=w").entries()).isEqualTo(Map.of("j", "w"));
    }

    @Provide
    Arbitrary<String> headers() {
        return Arbitraries.oneOf(
                FuzzInputs.headerText("=,;%0123456789abcdefABCDEFk.", 200),
                entries().map(e -> new Baggage(e).format()).flatMap(h -> FuzzInputs.headerText("=,;%", 20)
                        .map(junk -> h + junk)));
    }

    @Provide
    Arbitrary<Map<String, String>> entries() {
        Arbitrary<String> key = Arbitraries.strings()
                .withCharRange('a', 'z')
                .withCharRange('A', 'Z')
                .withCharRange('0', '9')
                .withChars("!#$%&'*+-.^_`|~")
                .ofMinLength(1)
                .ofMaxLength(12);
        Arbitrary<String> value = Arbitraries.strings()
                .withCharRange(' ', '~')
                .withChars("\u00e9\u4e16\u2003\ud83d\ude00")
                .ofMaxLength(20)
                .filter(BaggageFuzzTest::wholeCodePoints);
        return Arbitraries.maps(key, value).ofMaxSize(10).map(LinkedHashMap::new);
    }

    @Provide
    Arbitrary<String> nonAsciiMember() {
        Arbitrary<String> ascii = Arbitraries.strings().withCharRange('a', 'z').ofMaxLength(4);
        Arbitrary<Character> wide = Arbitraries.of('\u00e9', '\u0663', '\uff11', '\u2003', '\u00a0', '\u4e16');
        Arbitrary<Integer> where = Arbitraries.integers().between(0, 3);
        return Combinators.combine(ascii, ascii, wide, where).as((k, v, w, at) -> switch (at) {
            case 0 -> w + k + "x=" + v;
            case 1 -> k + "x" + w + "=" + v;
            case 2 -> k + "x=" + v + w;
            default -> k + "x=%" + w + w;
        });
    }

    private static boolean wholeCodePoints(String s) {
        return s.codePoints().noneMatch(cp -> Character.getType(cp) == Character.SURROGATE);
    }
}
