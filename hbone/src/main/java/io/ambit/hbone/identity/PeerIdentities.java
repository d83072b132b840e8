package io.ambit.hbone.identity;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;

/**
 * Reads the workload identity out of a peer's leaf certificate, the way an X.509-SVID is meant to be read
 * and with the traps of security-cases.md rows 26–28 closed:
 *
 * <ul>
 *   <li>Only URI SANs count. A DNS SAN (or any other SAN type) spelled {@code spiffe://…} is ignored; if it
 *       is all there is, the error says so.
 *   <li>The SAN extension is decoded from its DER bytes, not through the JDK's {@code URI} parsing, so
 *       nothing is normalised or percent-decoded. Every URI SAN must be printable ASCII: a NUL, any other
 *       control character or a byte above 0x7e rejects the whole certificate (no C-string truncation).
 *   <li>Exactly one SPIFFE URI SAN. A URI SAN whose scheme is {@code spiffe} in any letter case is a SPIFFE
 *       candidate; two or more reject the certificate (X.509-SVID: one SPIFFE id per certificate), and a
 *       candidate that is not a strict {@link SpiffeId} (upper-case scheme, percent escapes, extra path
 *       segments, …) rejects it too. URI SANs of other schemes are ignored.
 *   <li>A CA certificate (basicConstraints {@code cA=true}) is never a workload identity.
 *   <li>With a {@link Role}, the extended key usage must be present and name the purpose the peer uses the
 *       certificate for: {@code clientAuth} for a peer that connected to us, {@code serverAuth} for a peer
 *       we connected to. {@code anyExtendedKeyUsage} does not count, and a missing EKU is rejected (every
 *       Istio CA sets it; unlike RFC 5280's "absent means any", CVE-2022-21657). A present keyUsage must
 *       include {@code digitalSignature}.
 * </ul>
 *
 * <p>Chain validation (PKIX against the trust roots) and revocation are separate steps; this class only
 * looks at the leaf.
 */
public final class PeerIdentities {
    /** The role the peer plays in the handshake, which decides the extended key usage it needs. */
    public enum Role {
        /** The peer connected to us and presented a client certificate: needs {@code clientAuth}. */
        CLIENT("clientAuth", "1.3.6.1.5.5.7.3.2"),
        /** We connected to the peer and it presented a server certificate: needs {@code serverAuth}. */
        SERVER("serverAuth", "1.3.6.1.5.5.7.3.1");

        private final String purpose;
        private final String oid;

        Role(String purpose, String oid) {
            this.purpose = purpose;
            this.oid = oid;
        }

        /** The extended key usage name, e.g. {@code clientAuth}. */
        public String purpose() {
            return purpose;
        }

        /** The extended key usage OID, e.g. {@code 1.3.6.1.5.5.7.3.2}. */
        public String oid() {
            return oid;
        }
    }

    private static final int DIGITAL_SIGNATURE = 0;

    private PeerIdentities() {}

    /**
     * The identity of a peer acting in {@code role}: SAN rules, leaf check, and extended key usage.
     *
     * @throws PeerIdentityException saying what is wrong and what was expected
     */
    public static SpiffeId of(X509Certificate cert, Role role) throws PeerIdentityException {
        SpiffeId id = of(cert);
        checkKeyUsage(cert, role, id);
        return id;
    }

    /**
     * The identity a certificate carries, without a key-usage check: for our own certificates (which serve
     * both roles) and for a CA's answer to an issuance request.
     *
     * @throws PeerIdentityException saying what is wrong and what was expected
     */
    public static SpiffeId of(X509Certificate cert) throws PeerIdentityException {
        if (cert.getBasicConstraints() >= 0) {
            throw new PeerIdentityException(describe(cert)
                    + " is a CA certificate (basicConstraints cA=true); a workload identity must be a leaf");
        }
        List<String> spiffe = new ArrayList<>();
        String dnsLookalike = null;
        for (GeneralName name : subjectAltNames(cert)) {
            switch (name.getTagNo()) {
                case GeneralName.uniformResourceIdentifier -> {
                    String uri = ascii(
                            cert, ASN1IA5String.getInstance(name.getName()).getOctets());
                    if (uri.toLowerCase(Locale.ROOT).startsWith("spiffe:")) {
                        spiffe.add(uri);
                    }
                }
                case GeneralName.dNSName -> {
                    String dns = ASN1IA5String.getInstance(name.getName()).getString();
                    if (dns.toLowerCase(Locale.ROOT).contains("spiffe:")) {
                        dnsLookalike = dns;
                    }
                }
                default -> {
                    // IP, email, otherName, …: never an identity.
                }
            }
        }
        if (spiffe.isEmpty()) {
            throw new PeerIdentityException(describe(cert) + " has no spiffe:// URI SAN"
                    + (dnsLookalike == null
                            ? ""
                            : "; its DNS SAN \"" + printable(dnsLookalike)
                                    + "\" does not count: identities are read from URI SANs only")
                    + " (expected exactly one URI SAN spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>)");
        }
        if (spiffe.size() > 1) {
            throw new PeerIdentityException(describe(cert) + " has " + spiffe.size() + " SPIFFE URI SANs " + spiffe
                    + " (expected exactly one: a certificate carries one identity)");
        }
        try {
            return SpiffeId.parse(spiffe.getFirst());
        } catch (IllegalArgumentException e) {
            throw new PeerIdentityException(describe(cert) + ": " + e.getMessage(), e);
        }
    }

    private static List<GeneralName> subjectAltNames(X509Certificate cert) throws PeerIdentityException {
        byte[] ext = cert.getExtensionValue(Extension.subjectAlternativeName.getId());
        if (ext == null) {
            throw new PeerIdentityException(
                    describe(cert) + " has no subjectAltName extension (expected exactly one URI SAN spiffe://…)");
        }
        try {
            byte[] der = ASN1OctetString.getInstance(ext).getOctets();
            return List.of(
                    GeneralNames.getInstance(ASN1Primitive.fromByteArray(der)).getNames());
        } catch (Exception e) { // IOException, IllegalArgumentException, ClassCastException from bad DER
            throw new PeerIdentityException(
                    describe(cert) + " has a malformed subjectAltName extension: " + e.getMessage(), e);
        }
    }

    /** The URI SAN as a string, if every byte is printable ASCII; no decoding of any kind. */
    private static String ascii(X509Certificate cert, byte[] bytes) throws PeerIdentityException {
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            if (b <= 0x20 || b >= 0x7f) {
                String what = b == 0
                        ? "a NUL byte"
                        : String.format(b < 0x20 || b == 0x7f ? "a control character 0x%02x" : "byte 0x%02x", b);
                throw new PeerIdentityException(describe(cert) + ": URI SAN \""
                        + printable(new String(bytes, StandardCharsets.ISO_8859_1)) + "\" contains " + what
                        + " at offset " + i + " (expected printable ASCII; nothing is decoded or truncated)");
            }
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static void checkKeyUsage(X509Certificate cert, Role role, SpiffeId id) throws PeerIdentityException {
        List<String> eku;
        try {
            eku = cert.getExtendedKeyUsage();
        } catch (CertificateParsingException e) {
            throw new PeerIdentityException(describe(cert) + " (" + id + ") has a malformed extendedKeyUsage", e);
        }
        if (eku == null) {
            throw new PeerIdentityException(describe(cert) + " (" + id + ") has no extendedKeyUsage extension"
                    + " (expected " + role.purpose() + " for a " + role.name().toLowerCase(Locale.ROOT) + ")");
        }
        if (!eku.contains(role.oid())) {
            throw new PeerIdentityException(describe(cert) + " (" + id + ") has extendedKeyUsage "
                    + eku.stream().map(PeerIdentities::ekuName).toList() + ", which does not allow "
                    + role.purpose() + " (the peer acts as a " + role.name().toLowerCase(Locale.ROOT) + ")");
        }
        boolean[] ku = cert.getKeyUsage();
        if (ku != null && (ku.length <= DIGITAL_SIGNATURE || !ku[DIGITAL_SIGNATURE])) {
            throw new PeerIdentityException(describe(cert) + " (" + id
                    + ") has a keyUsage without digitalSignature (expected digitalSignature for TLS 1.3)");
        }
    }

    private static String ekuName(String oid) {
        return switch (oid) {
            case "1.3.6.1.5.5.7.3.1" -> "serverAuth";
            case "1.3.6.1.5.5.7.3.2" -> "clientAuth";
            case "1.3.6.1.5.5.7.3.3" -> "codeSigning";
            case "1.3.6.1.5.5.7.3.4" -> "emailProtection";
            case "2.5.29.37.0" -> "anyExtendedKeyUsage";
            default -> oid;
        };
    }

    /** Names a certificate in messages: serial and issuer, both from the signed part. */
    static String describe(X509Certificate cert) {
        return "certificate serial " + cert.getSerialNumber().toString(16) + " from \""
                + printable(cert.getIssuerX500Principal().getName()) + "\"";
    }

    private static String printable(String s) {
        var sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 160; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c >= 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return sb.toString();
    }
}
