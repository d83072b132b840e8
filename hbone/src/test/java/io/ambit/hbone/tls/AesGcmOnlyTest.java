package io.ambit.hbone.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.Test;

/**
 * The lookup behind {@link AesGcmOnly}: on Linux with the tcnative jar Ambit ships, BoringSSL's unexported
 * {@code SSL_CTX_set_compliance_policy} is found (so ChaCha20 is out of TLS 1.3 before the handshake; the
 * scanners in {@code conformance.tls} check the wire), and a name that is not a function gives a reason,
 * not an address. A failure here means a tcnative upgrade changed the library: see AesGcmOnly.
 */
final class AesGcmOnlyTest {

    @Test
    void theCompliancePolicyFunctionIsFoundInTheLoadedTcnative() {
        assertThat(OpenSsl.isAvailable()).as("tcnative loaded").isTrue();
        assertThat(AesGcmOnly.available())
                .as("AES-GCM-only TLS 1.3 policy: %s", AesGcmOnly.unavailability())
                .isTrue();
        TcnativeSymbol.Lookup lookup = TcnativeSymbol.find("SSL_CTX_set_compliance_policy");
        assertThat(lookup.address()).as(lookup.reason()).isPresent();
        assertThat(TcnativeSymbol.find("SSL_CTX_set1_groups_list").address()).isPresent();
    }

    @Test
    void aSymbolThatIsNoFunctionGivesAReasonAndNoAddress() {
        assertThat(OpenSsl.isAvailable()).isTrue();
        TcnativeSymbol.Lookup missing = TcnativeSymbol.find("no_such_function_in_boringssl");
        assertThat(missing.address()).isEmpty();
        assertThat(missing.reason()).contains("no_such_function_in_boringssl");
        // a data object, not a function: refused as well
        TcnativeSymbol.Lookup data = TcnativeSymbol.find("POLICYINFO_it");
        assertThat(data.address()).isEmpty();
    }
}
