package io.ambit.hbone.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.TraceParent;
import java.util.HexFormat;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The W3C {@code traceparent} parser: optional header, so bad input is ignored (empty), never an error. */
class TraceParentFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void anyTextIsEitherATraceParentOrIgnored(@ForAll("headers") String header) {
        Optional<TraceParent> parsed = TraceParent.parse(header);

        FuzzInputs.outcome(parsed.isPresent());
        parsed.ifPresent(t -> {
            assertThat(header).startsWith(header.substring(0, 2) + "-" + t.traceId() + "-" + t.parentId() + "-");
            assertThat(t.flags()).isBetween(0, 255);
        });
    }

    @Property(seed = FuzzInputs.SEED)
    void aFormattedTraceParentParsesBackUnchanged(@ForAll("valid") TraceParent t) {
        assertThat(TraceParent.parse(t.format())).contains(t);
        assertThat(t.format()).hasSize(55);
    }

    @Property(seed = FuzzInputs.SEED)
    void oneChangedCharacterIsEitherStillValidOrIgnored(
            @ForAll("valid") TraceParent t, @ForAll("positions") int at, @ForAll("headerChars") char c) {
        String header = t.format();
        String changed = header.substring(0, at) + c + header.substring(at + 1);

        Optional<TraceParent> parsed = TraceParent.parse(changed);

        if (parsed.isPresent()) {
            assertThat(parsed.get().format())
                    .isEqualTo(changed.startsWith("00") ? changed : parsed.get().format());
        }
    }

    @Provide
    Arbitrary<String> headers() {
        Arbitrary<String> shaped = Combinators.combine(
                        FuzzInputs.headerText("0123456789abcdefABCDEF-", 3),
                        FuzzInputs.headerText("0123456789abcdef-", 34),
                        FuzzInputs.headerText("0123456789abcdef-", 18),
                        FuzzInputs.headerText("0123456789abcdef-", 4))
                .as((a, b, c, d) -> a + "-" + b + "-" + c + "-" + d);
        Arbitrary<String> versioned = Combinators.combine(
                        valid(), Arbitraries.of("00", "01", "fe", "ff", "0g"), FuzzInputs.headerText("-0a", 6))
                .as((t, v, rest) -> v + t.format().substring(2) + rest);
        return Arbitraries.oneOf(FuzzInputs.headerText("0123456789abcdef-", 600), shaped, versioned);
    }

    @Provide
    Arbitrary<TraceParent> valid() {
        HexFormat hex = HexFormat.of();
        Arbitrary<String> trace = Arbitraries.longs()
                .tuple2()
                .map(p -> hex.toHexDigits(p.get1()) + hex.toHexDigits(p.get2()))
                .filter(s -> !s.equals("0".repeat(32)));
        Arbitrary<String> parent = Arbitraries.longs().map(hex::toHexDigits).filter(s -> !s.equals("0".repeat(16)));
        return Combinators.combine(trace, parent, Arbitraries.integers().between(0, 255))
                .as(TraceParent::new);
    }

    @Provide
    Arbitrary<Integer> positions() {
        return Arbitraries.integers().between(0, 54);
    }

    @Provide
    Arbitrary<Character> headerChars() {
        return Arbitraries.of('0', '9', 'a', 'f', 'g', 'A', 'F', '-', ' ', '\0', '\u0663', '\uff10');
    }
}
