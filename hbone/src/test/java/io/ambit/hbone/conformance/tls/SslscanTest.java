package io.ambit.hbone.conformance.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.hbone.tls.TlsSettings;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * sslscan 2.0.7 (Debian {@code sslscan}, OpenSSL 3.0: no ML-KEM) against the HBONE listener with a client
 * certificate from the test CA ({@code --certs}/{@code --pk}), read from its XML report: only TLS 1.3, only
 * the two AES-GCM suites (no ChaCha20), X25519 as the only classic group it can find (X25519MLKEM768 is
 * beyond its OpenSSL), no renegotiation, no compression, not vulnerable to Heartbleed. With the {@code pqc}
 * compliance policy, a scanner without ML-KEM gets no TLS at all. (sslscan 2.0.7's TLS 1.2 probe does not offer
 * X25519, so it reports TLS 1.2 "disabled" even where it is enabled; {@link TestsslScanTest} checks TLS 1.2.)
 */
@ExtendWith(NoLeaks.class)
@Timeout(120)
final class SslscanTest {
    private static final String SSLSCAN = "/usr/bin/sslscan";

    @TempDir
    static Path dir;

    @Test
    void theListenerOffersExactlyWhatZtunnelDoes() throws Exception {
        Scanner.require(SSLSCAN, "sslscan");
        try (ScannedServer server =
                ScannedServer.start("127.62.20.2", TlsSettings.defaults(), dir.resolve("default"))) {
            Report r = scan(server);

            assertThat(r.attributes("protocol", "version", "enabled"))
                    .as(r.xml)
                    .contains("2=0", "3=0", "1.0=0", "1.1=0", "1.2=0", "1.3=1");
            assertThat(r.attributes("cipher", "cipher", "sslversion"))
                    .as(r.xml)
                    .containsExactlyInAnyOrder("TLS_AES_128_GCM_SHA256=TLSv1.3", "TLS_AES_256_GCM_SHA384=TLSv1.3");
            assertThat(r.attributes("group", "name", "sslversion"))
                    .as(r.xml)
                    .containsExactlyInAnyOrder(
                            "x25519=TLSv1.3", "secp256r1 (NIST P-256)=TLSv1.3", "secp384r1 (NIST P-384)=TLSv1.3");
            assertThat(r.attributes("renegotiation", "supported", "secure"))
                    .as(r.xml)
                    .containsExactly("0=0");
            assertThat(r.attributes("compression", "supported", "supported"))
                    .as(r.xml)
                    .allMatch(s -> s.startsWith("0="));
            assertThat(r.attributes("heartbleed", "sslversion", "vulnerable"))
                    .as(r.xml)
                    .containsExactly("TLSv1.3=0");
        }
    }

    @Test
    void withThePqcPolicyAClassicScannerGetsNoTls() throws Exception {
        Scanner.require(SSLSCAN, "sslscan");
        TlsSettings pqc = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
        try (ScannedServer server = ScannedServer.start("127.62.20.3", pqc, dir.resolve("pqc"))) {
            Report r = scan(server);

            assertThat(r.attributes("protocol", "version", "enabled")).as(r.xml).allMatch(s -> s.endsWith("=0"));
            assertThat(r.attributes("cipher", "cipher", "sslversion")).as(r.xml).isEmpty();
        }
    }

    /** sslscan's XML report of one run. */
    private record Report(String xml, Document doc) {
        /** {@code a=b} for each element {@code tag}, from its attributes {@code a} and {@code b}. */
        List<String> attributes(String tag, String a, String b) {
            List<String> out = new ArrayList<>();
            NodeList nodes = doc.getElementsByTagName(tag);
            for (int i = 0; i < nodes.getLength(); i++) {
                Element e = (Element) nodes.item(i);
                out.add(e.getAttribute(a) + "=" + e.getAttribute(b));
            }
            return out;
        }
    }

    private static Report scan(ScannedServer server) throws Exception {
        Scanner.Run run = Scanner.run(
                Duration.ofSeconds(90),
                List.of(
                        SSLSCAN,
                        "--no-colour",
                        "--certs=" + server.client.chain(),
                        "--pk=" + server.client.key(),
                        "--xml=-",
                        server.hostPort()));
        String xml = run.out().substring(Math.max(0, run.out().indexOf("<?xml")));
        assertThat(xml).as("sslscan printed no XML report:\n" + run.out()).startsWith("<?xml");
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc =
                factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        assertThat(doc.getElementsByTagName("ssltest").getLength())
                .as("sslscan reached the server:\n" + xml)
                .isEqualTo(1);
        return new Report(xml, doc);
    }
}
