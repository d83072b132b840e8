package io.ambit.controlplane;

import com.google.protobuf.Value;
import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.proto.ca.IstioCertificateRequest;
import io.ambit.xds.proto.ca.IstioCertificateResponse;
import io.ambit.xds.proto.ca.IstioCertificateServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.StringReader;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * istiod's certificate service (ztunnel-reference §3.2) for a laptop: signs a PEM CSR whose only SAN is a
 * SPIFFE URI in the mesh's trust domain, for the requested lifetime up to a maximum, and answers with
 * the leaf, the CA's intermediates and, last, the root bundle. {@code ImpersonatedIdentity} metadata, when
 * present, must name the CSR's identity. There is no caller to authenticate on one machine (istiod checks
 * the token and that the identity runs on the caller's node); this server checks the request itself.
 */
final class CaService extends IstioCertificateServiceGrpc.IstioCertificateServiceImplBase {
    private static final SecureRandom RANDOM = new SecureRandom();
    static final int MAX_CSR_CHARS = 16 * 1024;

    /** The CA that signs, and the roots clients are told to trust (several while a root is rotated). */
    record Signer(SigningCa ca, List<X509Certificate> roots) {}

    private final AtomicReference<Signer> signer;
    private final String trustDomain;
    private final Duration maxTtl;
    private final Clock clock;
    private final AtomicLong issued = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    CaService(Signer signer, String trustDomain, Duration maxTtl, Clock clock) {
        this.signer = new AtomicReference<>(signer);
        this.trustDomain = trustDomain;
        this.maxTtl = maxTtl;
        this.clock = clock;
    }

    void use(Signer next) {
        signer.set(next);
    }

    long issued() {
        return issued.get();
    }

    long refused() {
        return refused.get();
    }

    @Override
    public void createCertificate(IstioCertificateRequest req, StreamObserver<IstioCertificateResponse> out) {
        try {
            out.onNext(issue(req));
            out.onCompleted();
            issued.incrementAndGet();
        } catch (Refused e) {
            refused.incrementAndGet();
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        } catch (Exception e) {
            refused.incrementAndGet();
            out.onError(Status.INTERNAL.withDescription("cannot sign: " + e).asRuntimeException());
        }
    }

    private static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private IstioCertificateResponse issue(IstioCertificateRequest req) throws Exception {
        if (req.getCsr().length() > MAX_CSR_CHARS) {
            throw new Refused(
                    "csr is " + req.getCsr().length() + " characters (expected: at most " + MAX_CSR_CHARS + ")");
        }
        PKCS10CertificationRequest csr;
        try (var parser = new PEMParser(new StringReader(req.getCsr()))) {
            var o = parser.readObject();
            if (!(o instanceof PKCS10CertificationRequest c)) {
                throw new Refused(
                        "csr is not a PEM certificate request (expected: -----BEGIN CERTIFICATE REQUEST-----)");
            }
            csr = c;
        } catch (java.io.IOException | RuntimeException e) { // BouncyCastle reports bad base64 unchecked
            throw new Refused("csr does not parse: " + e.getMessage());
        }
        PublicKey key;
        try {
            key = new JcaPKCS10CertificationRequest(csr).getPublicKey();
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw new Refused("csr signature does not verify with its own key");
            }
        } catch (Refused e) {
            throw e;
        } catch (Exception e) {
            throw new Refused("csr key or signature is unusable: " + e.getMessage());
        }
        SpiffeId id;
        try {
            id = identity(csr);
        } catch (RuntimeException e) { // a malformed extension request
            throw new Refused("csr extensions do not parse: " + e.getMessage());
        }
        if (!id.trustDomain().equals(trustDomain)) {
            throw new Refused("csr asks for " + id + " (expected: trust domain " + trustDomain + ")");
        }
        if (req.hasMetadata()) {
            Value imp = req.getMetadata().getFieldsMap().get("ImpersonatedIdentity");
            if (imp != null && !imp.getStringValue().equals(id.toString())) {
                throw new Refused("ImpersonatedIdentity " + imp.getStringValue() + " differs from the csr's " + id);
            }
        }
        Duration ttl = req.getValidityDuration() > 0 ? Duration.ofSeconds(req.getValidityDuration()) : maxTtl;
        if (ttl.compareTo(maxTtl) > 0) {
            ttl = maxTtl;
        }
        var s = signer.get();
        X509Certificate leaf = sign(s.ca(), key, id, clock.instant(), ttl);
        var chain = new ArrayList<String>();
        chain.add(Pem.encodeCertificates(List.of(leaf)));
        for (var c : s.ca().chain()) {
            if (!s.roots().contains(c)) {
                chain.add(Pem.encodeCertificates(List.of(c)));
            }
        }
        chain.add(Pem.encodeCertificates(s.roots())); // the root bundle, last (ztunnel-reference §3.4)
        return IstioCertificateResponse.newBuilder().addAllCertChain(chain).build();
    }

    private static SpiffeId identity(PKCS10CertificationRequest csr) throws Refused {
        var attrs = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
        if (attrs.length != 1) {
            throw new Refused("csr has no extension request (expected: a URI SAN with the SPIFFE id)");
        }
        var ext = Extensions.getInstance(attrs[0].getAttrValues().getObjectAt(0));
        var sans = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
        if (sans == null
                || sans.getNames().length != 1
                || sans.getNames()[0].getTagNo() != GeneralName.uniformResourceIdentifier) {
            throw new Refused("csr SANs must be exactly one URI (expected: spiffe://<td>/ns/<ns>/sa/<sa>)");
        }
        String uri = sans.getNames()[0].getName().toString();
        try {
            return SpiffeId.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new Refused("csr SAN: " + e.getMessage());
        }
    }

    private static X509Certificate sign(SigningCa ca, PublicKey key, SpiffeId id, Instant now, Duration ttl)
            throws Exception {
        // backdated for clock skew, but by at most an eighth of the lifetime: a short-lived certificate must not
        // be past its rotation point (half-life) the moment it is issued
        Duration backdate =
                ttl.dividedBy(8).compareTo(Duration.ofMinutes(1)) < 0 ? ttl.dividedBy(8) : Duration.ofMinutes(1);
        Instant start = now.minus(backdate);
        Instant end = now.plus(ttl);
        Instant caEnd = ca.certificate().getNotAfter().toInstant();
        if (end.isAfter(caEnd)) {
            end = caEnd;
        }
        var ext = new JcaX509ExtensionUtils();
        var b = new JcaX509v3CertificateBuilder(
                        ca.certificate(),
                        new BigInteger(96, RANDOM),
                        Date.from(start),
                        Date.from(end),
                        new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                        key)
                .addExtension(
                        Extension.subjectAlternativeName,
                        true,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString())))
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(
                        Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                }))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key))
                .addExtension(
                        Extension.authorityKeyIdentifier,
                        false,
                        ext.createAuthorityKeyIdentifier(ca.certificate().getPublicKey()));
        var signer = new JcaContentSignerBuilder(ServingCertificate.signatureAlgorithm(ca)).build(ca.key());
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }
}
