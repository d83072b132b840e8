package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.ztunnel.node.Node;
import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * sslscan 2.0.7 (Debian {@code sslscan}) against a running node's HBONE port, as configured by {@code ambit run}
 * (the workload's {@code 127.62.30.1:15008}), with a client certificate the mesh's own CA issued: what a peer
 * in the mesh sees is ztunnel's TLS (ztunnel-reference.md §2.1) — TLS 1.3 only, the two AES-GCM suites only,
 * X25519 (the scanner's OpenSSL 3.0 has no ML-KEM), no renegotiation, no compression, no Heartbleed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodeTlsScanTest {
    private static final String SSLSCAN = "/usr/bin/sslscan";
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.62.30.2"]}
            - {name: httpbin-1, namespace: default, serviceAccount: httpbin, node: node-b, workloadIps: ["127.62.30.1"]}
            """;

    @TempDir
    static Path dir;

    static LocalMesh mesh;

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withPorts(Node.Ports.builder().admin(0).dns(0).build()));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void theNodesHbonePortOffersExactlyWhatZtunnelDoes() throws Exception {
        assertThat(Files.isExecutable(Path.of(SSLSCAN)))
                .as(SSLSCAN + " is missing: install the Debian package sslscan (CI installs it)")
                .isTrue();
        // a client certificate from the mesh's CA, as another node's ztunnel would present
        WorkloadCertificate client = LocalCa.open(dir.resolve("ca"), Clock.systemUTC())
                .issue(SpiffeId.parse("spiffe://cluster.local/ns/default/sa/sleep"), Duration.ofHours(1));
        Path key = dir.resolve("client-key.pem");
        Path chain = dir.resolve("client-cert.pem");
        Files.writeString(key, pem(new JcaPKCS8Generator(client.key(), null)));
        StringBuilder certs = new StringBuilder();
        for (X509Certificate c : client.chain()) {
            certs.append(pem(c));
        }
        Files.writeString(chain, certs.toString());

        Process p = new ProcessBuilder(
                        SSLSCAN, "--no-colour", "--certs=" + chain, "--pk=" + key, "--xml=-", "127.62.30.1:15008")
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "(unreadable: " + e + ")";
            }
        });
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sslscan did not finish within 90 s");
        }
        String out = read.get(10, TimeUnit.SECONDS);
        String xml = out.substring(Math.max(0, out.indexOf("<?xml")));
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc =
                factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        assertThat(doc.getElementsByTagName("ssltest").getLength()).as(out).isEqualTo(1);

        assertThat(attributes(doc, "protocol", "version", "enabled"))
                .as(xml)
                .contains("2=0", "3=0", "1.0=0", "1.1=0", "1.2=0", "1.3=1");
        assertThat(attributes(doc, "cipher", "cipher", "sslversion"))
                .as(xml)
                .containsExactlyInAnyOrder("TLS_AES_128_GCM_SHA256=TLSv1.3", "TLS_AES_256_GCM_SHA384=TLSv1.3");
        assertThat(attributes(doc, "group", "name", "sslversion"))
                .as(xml)
                .containsExactlyInAnyOrder(
                        "x25519=TLSv1.3", "secp256r1 (NIST P-256)=TLSv1.3", "secp384r1 (NIST P-384)=TLSv1.3");
        assertThat(attributes(doc, "renegotiation", "supported", "secure"))
                .as(xml)
                .containsExactly("0=0");
        assertThat(attributes(doc, "heartbleed", "sslversion", "vulnerable"))
                .as(xml)
                .containsExactly("TLSv1.3=0");
    }

    /** {@code a=b} for each element {@code tag}, from its attributes {@code a} and {@code b}. */
    static List<String> attributes(Document doc, String tag, String a, String b) {
        List<String> out = new ArrayList<>();
        NodeList nodes = doc.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) {
            Element e = (Element) nodes.item(i);
            out.add(e.getAttribute(a) + "=" + e.getAttribute(b));
        }
        return out;
    }

    static String pem(Object o) throws java.io.IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
