package io.ambit.xds.ca;

import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The certificate request ztunnel sends istiod (ztunnel-reference §3.2): a new ECDSA P-256 key, an empty
 * subject, and one SAN — the SPIFFE id as a URI, marked critical — signed with SHA-256.
 *
 * @param keys the new key pair; the private half never leaves this process
 * @param pem  the PKCS#10 request in PEM
 */
record Csr(KeyPair keys, String pem) {
    static Csr forIdentity(SpiffeId identity) throws GeneralSecurityException {
        var gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = gen.generateKeyPair();
        try {
            var ext = new ExtensionsGenerator();
            ext.addExtension(
                    Extension.subjectAlternativeName,
                    true,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity.toString())));
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(
                            new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), keys.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
            var out = new StringWriter();
            try (var w = new JcaPEMWriter(out)) {
                w.writeObject(csr);
            }
            return new Csr(keys, out.toString());
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException("cannot build a certificate request for " + identity + ": " + e, e);
        }
    }
}
