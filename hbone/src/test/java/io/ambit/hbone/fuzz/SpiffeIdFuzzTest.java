package io.ambit.hbone.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * SPIFFE ids from certificates (security-cases rows 26-28): parsed exactly or refused with an
 * {@link IllegalArgumentException} that names the text; accepted ids print back to the same text, so no
 * NUL, percent-encoding or extra segment can make two different URIs compare equal.
 */
class SpiffeIdFuzzTest {

    @Property(seed = FuzzInputs.SEED)
    void anyUriIsEitherTheExactIdOrAClearError(@ForAll("uris") String uri) {
        SpiffeId id;
        try {
            id = SpiffeId.parse(uri);
        } catch (IllegalArgumentException e) {
            FuzzInputs.outcome(false);
            assertThat(e.getMessage()).contains("is not a workload SPIFFE id").doesNotContain("\0");
            return;
        }
        FuzzInputs.outcome(true);
        assertThat(id.toString()).isEqualTo(uri);
        assertThat(id.principal()).isEqualTo(uri.substring("spiffe://".length()));
        assertThat(SpiffeId.parse(id.toString())).isEqualTo(id);
    }

    @Property(seed = FuzzInputs.SEED)
    void validPartsRoundTrip(@ForAll("parts") String td, @ForAll("parts") String ns, @ForAll("parts") String sa) {
        SpiffeId id = new SpiffeId(td, ns, sa);

        assertThat(SpiffeId.parse(id.toString())).isEqualTo(id);
    }

    @Provide
    Arbitrary<String> parts() {
        return Arbitraries.strings()
                .withCharRange('a', 'z')
                .withCharRange('A', 'Z')
                .withCharRange('0', '9')
                .withChars("-._")
                .ofMinLength(1)
                .ofMaxLength(20);
    }

    @Provide
    Arbitrary<String> uris() {
        Arbitrary<String> part = Arbitraries.oneOf(parts(), FuzzInputs.headerText("/%.:@sa", 12));
        Arbitrary<String> shaped = Combinators.combine(part, part, part, Arbitraries.of("ns", "sa", "NS", "ns/"))
                .as((td, ns, sa, lit) -> "spiffe://" + td + "/" + lit + "/" + ns + "/sa/" + sa);
        return Arbitraries.oneOf(shaped, FuzzInputs.headerText("spiffe:/nsa.", 60));
    }
}
