package io.ambit.controlplane;

import io.ambit.hbone.ca.SigningCa;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The control plane's own TLS certificate, as istiod has one: signed by the mesh CA, with DNS names (e.g.
 * {@code istiod.istio-system.svc}, {@code localhost}) and IP addresses as SANs, so a client that trusts
 * the mesh root ({@code root-cert.pem}) verifies it by host name as it verifies istiod.
 *
 * @param key   the private key (ECDSA P-256)
 * @param chain the leaf, then the CA's chain
 */
public record ServingCertificate(PrivateKey key, List<X509Certificate> chain) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** istiod's service names, so clients configured for a cluster verify a local control plane too. */
    public static final List<String> ISTIOD_NAMES =
            List.of("istiod.istio-system.svc", "istiod.istio-system.svc.cluster.local", "localhost");

    /**
     * Issues one.
     *
     * @throws IllegalStateException when the CA cannot sign (its key is unusable)
     */
    public static ServingCertificate issue(
            SigningCa ca, List<String> dnsNames, List<InetAddress> addresses, Instant now, Duration validity) {
        KeyPair keys = SigningCa.newKeyPair();
        var names = new ArrayList<GeneralName>();
        dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        addresses.forEach(a -> names.add(new GeneralName(GeneralName.iPAddress, a.getHostAddress())));
        Instant end = now.plus(validity);
        Instant caEnd = ca.certificate().getNotAfter().toInstant();
        if (end.isAfter(caEnd)) {
            end = caEnd;
        }
        try {
            var builder = new JcaX509v3CertificateBuilder(
                            ca.certificate(),
                            new BigInteger(96, RANDOM),
                            Date.from(now.minus(Duration.ofMinutes(1))),
                            Date.from(end),
                            new X500Name("O=ambit, CN=ambit control plane"),
                            keys.getPublic())
                    .addExtension(
                            Extension.subjectAlternativeName,
                            false,
                            new GeneralNames(names.toArray(GeneralName[]::new)))
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(
                            Extension.keyUsage,
                            true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(
                            Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            var signer = new JcaContentSignerBuilder(signatureAlgorithm(ca)).build(ca.key());
            X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            var chain = new ArrayList<X509Certificate>();
            chain.add(leaf);
            chain.addAll(ca.chain());
            return new ServingCertificate(keys.getPrivate(), chain);
        } catch (Exception e) {
            throw new IllegalStateException("cannot issue the control plane's certificate: " + e, e);
        }
    }

    static String signatureAlgorithm(SigningCa ca) {
        return switch (ca.key().getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default ->
                throw new IllegalStateException("unsupported CA key " + ca.key().getAlgorithm());
        };
    }
}
