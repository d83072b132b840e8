package io.ambit.hbone.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.Forwarded;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The HBONE {@code forwarded} parser (security-cases row 41: ztunnel replaced its parser by a fuzzed one)
 * against random and mutated headers: it answers a value or "malformed" (empty), never throws, and what it
 * accepts is well-formed; a header we format parses back to the same values.
 */
class ForwardedFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void anyTextIsEitherParsedOrRefusedWithoutThrowing(@ForAll("headers") String header) {
        Optional<Forwarded> parsed = Forwarded.parse(header);
        parsed.ifPresent(f -> {
            assertThat(f.elements()).isNotEmpty().hasSizeLessThanOrEqualTo(64);
            for (Map<String, String> element : f.elements()) {
                assertThat(element).isNotEmpty();
                element.forEach((name, value) -> {
                    assertThat(name).isNotEmpty().matches("[a-z0-9!#$%&'*+\\-.^_`|~]+");
                    assertThat(value.chars()).noneMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f);
                });
            }
        });
    }

    @Property(seed = FuzzInputs.SEED)
    void mutatedValidHeadersNeverThrow(@ForAll("mutatedHeaders") String header) {
        FuzzInputs.outcome(Forwarded.parse(header).isPresent()); // any exception fails the property
    }

    @Property(seed = FuzzInputs.SEED)
    void aFormattedHopParsesBackToTheSameAddressAndHost(
            @ForAll("printable") String forAddress, @ForAll("printable") String host) {
        String header = Forwarded.format(forAddress, host);

        Forwarded parsed = Forwarded.parse(header).orElseThrow(() -> new AssertionError("refused " + header));

        assertThat(parsed.forAddress()).contains(forAddress);
        assertThat(parsed.host()).isEqualTo(host.isEmpty() ? Optional.empty() : Optional.of(host));
    }

    @Property(seed = FuzzInputs.SEED, tries = 20)
    void headersOverTheSizeBoundAreRefusedWhole(@ForAll("mutatedHeaders") String header) {
        String huge = (header + ",for=x").repeat(8193 / (header.length() + 6) + 1);

        assertThat(Forwarded.parse(huge)).isEmpty();
    }

    @Provide
    Arbitrary<String> headers() {
        return FuzzInputs.headerText("for=host;,\"\\=proto", 120);
    }

    @Provide
    Arbitrary<String> printable() {
        // Quoted strings may carry any character but controls; include quotes and backslashes to escape.
        return Arbitraries.strings()
                .withCharRange(' ', '~')
                .withChars("\t\u00e9\u4e16\"\\")
                .ofMaxLength(40);
    }

    @Provide
    Arbitrary<String> mutatedHeaders() {
        Arbitrary<String> valid = Combinators.combine(printable(), printable()).as(Forwarded::format);
        return Combinators.combine(valid, Arbitraries.integers().between(0, 1000), headers())
                .as((v, at, junk) -> {
                    int cut = Math.min(at, v.length());
                    return v.substring(0, cut) + junk + v.substring(cut);
                });
    }
}
