package io.ambit.hbone.ca;

import io.ambit.hbone.cert.CertificateSourceException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemGenerationException;
import org.bouncycastle.util.io.pem.PemObjectGenerator;

/**
 * PEM files of a CA or a workload: read with BouncyCastle's parser (text around the blocks, such as
 * openssl's {@code subject=} lines, is ignored), certificates and CRLs materialised by the JDK's
 * {@code CertificateFactory}, keys by the JDK's {@code KeyFactory}. Private keys are written as PKCS#8
 * ({@code PRIVATE KEY}); PKCS#1 ({@code RSA PRIVATE KEY}) and SEC1 ({@code EC PRIVATE KEY}) are read too.
 *
 * <p>Every error names the file and says what was expected in it. Files are written atomically (a
 * temporary file in the same directory, then a rename), private keys with mode 0600 from the start.
 */
public final class Pem {
    private static final Set<PosixFilePermission> SECRET = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");

    private Pem() {}

    /**
     * The certificates in {@code file}, in file order; at least one.
     *
     * @param what what the file should hold, for messages: "the root certificate(s)"
     */
    public static List<X509Certificate> readCertificates(Path file, String what) throws CertificateSourceException {
        return parseCertificates(read(file, what), file.toString(), what);
    }

    /** The certificates in PEM {@code text}; {@code origin} names it in messages. */
    public static List<X509Certificate> parseCertificates(String text, String origin, String what)
            throws CertificateSourceException {
        var converter = new JcaX509CertificateConverter();
        List<X509Certificate> certs = new ArrayList<>();
        for (Object o : objects(text, origin, what)) {
            if (!(o instanceof X509CertificateHolder holder)) {
                throw new CertificateSourceException(
                        origin + ": found " + kind(o) + " (expected only CERTIFICATE blocks: " + what + ")");
            }
            try {
                certs.add(converter.getCertificate(holder));
            } catch (CertificateException e) {
                throw new CertificateSourceException(
                        origin + ": certificate " + (certs.size() + 1) + " is not valid X.509: " + e.getMessage(), e);
            }
        }
        if (certs.isEmpty()) {
            throw new CertificateSourceException(origin + ": no CERTIFICATE block (expected " + what + " in PEM)");
        }
        return List.copyOf(certs);
    }

    /** The one private key in {@code file}: PKCS#8, PKCS#1 (RSA) or SEC1 (EC); not encrypted. */
    public static PrivateKey readPrivateKey(Path file, String what) throws CertificateSourceException {
        return parsePrivateKey(read(file, what), file.toString(), what);
    }

    /** The one private key in PEM {@code text}; {@code origin} names it in messages. */
    public static PrivateKey parsePrivateKey(String text, String origin, String what)
            throws CertificateSourceException {
        List<Object> objects = objects(text, origin, what);
        if (objects.size() != 1) {
            throw new CertificateSourceException(origin + ": found " + objects.size()
                    + " PEM blocks (expected exactly one private key: " + what + ")");
        }
        Object o = objects.getFirst();
        var converter = new JcaPEMKeyConverter();
        try {
            return switch (o) {
                case PrivateKeyInfo info -> converter.getPrivateKey(info);
                case PEMKeyPair pair ->
                    converter.getPrivateKey(pair.getPrivateKeyInfo()); // SEC1 may omit the public key
                case PKCS8EncryptedPrivateKeyInfo ignored -> throw encrypted(origin);
                case PEMEncryptedKeyPair ignored -> throw encrypted(origin);
                default ->
                    throw new CertificateSourceException(
                            origin + ": found " + kind(o) + " (expected a private key: " + what + ")");
            };
        } catch (IOException e) { // PEMException: an algorithm the JDK cannot load, or a malformed key
            throw new CertificateSourceException(origin + ": unreadable private key: " + e.getMessage(), e);
        }
    }

    /** The CRLs in {@code file}; at least one. */
    public static List<X509CRL> readCrls(Path file, String what) throws CertificateSourceException {
        return parseCrls(read(file, what), file.toString(), what);
    }

    /** The CRLs in PEM {@code text}; {@code origin} names it in messages. */
    public static List<X509CRL> parseCrls(String text, String origin, String what) throws CertificateSourceException {
        var converter = new JcaX509CRLConverter();
        List<X509CRL> crls = new ArrayList<>();
        for (Object o : objects(text, origin, what)) {
            if (!(o instanceof X509CRLHolder holder)) {
                throw new CertificateSourceException(
                        origin + ": found " + kind(o) + " (expected only X509 CRL blocks: " + what + ")");
            }
            try {
                crls.add(converter.getCRL(holder));
            } catch (CRLException e) {
                throw new CertificateSourceException(origin + ": CRL is not valid: " + e.getMessage(), e);
            }
        }
        if (crls.isEmpty()) {
            throw new CertificateSourceException(origin + ": no X509 CRL block (expected " + what + " in PEM)");
        }
        return List.copyOf(crls);
    }

    /** PEM text of {@code certs}, in order. */
    public static String encodeCertificates(Collection<X509Certificate> certs) {
        return encode(certs.toArray());
    }

    /** PEM text of {@code key} as unencrypted PKCS#8 ({@code -----BEGIN PRIVATE KEY-----}). */
    public static String encodePrivateKey(PrivateKey key) {
        try {
            return encode(new JcaPKCS8Generator(key, null).generate());
        } catch (PemGenerationException e) {
            throw new IllegalArgumentException("cannot encode " + key.getAlgorithm() + " key as PKCS#8", e);
        }
    }

    /** PEM text of {@code crl}. */
    public static String encodeCrl(X509CRL crl) {
        return encode(crl);
    }

    /**
     * Writes {@code text} to {@code file} atomically; a {@code secret} file gets mode 0600 (on POSIX file
     * systems), any other 0644.
     */
    public static void write(Path file, String text, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp;
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            tmp = Files.createTempFile(
                    dir,
                    "." + file.getFileName(),
                    ".tmp",
                    PosixFilePermissions.asFileAttribute(secret ? SECRET : PUBLIC));
        } else {
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        }
        try {
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String encode(Object... objects) {
        var text = new StringWriter();
        try (var writer = new JcaPEMWriter(text)) {
            for (Object o : objects) {
                if (o instanceof PemObjectGenerator generator) {
                    writer.writeObject(generator);
                } else {
                    writer.writeObject(o);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    /** The text of {@code file}, with an error naming it and what it should hold. */
    static String read(Path file, String what) throws CertificateSourceException {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new CertificateSourceException(file + ": no such file (expected " + what + " in PEM)", e);
        } catch (IOException e) {
            throw new CertificateSourceException(file + ": cannot read (" + e + "; expected " + what + ")", e);
        }
    }

    private static List<Object> objects(String text, String origin, String what) throws CertificateSourceException {
        List<Object> objects = new ArrayList<>();
        try (var parser = new PEMParser(new StringReader(text))) {
            for (Object o; (o = parser.readObject()) != null; ) {
                objects.add(o);
            }
        } catch (IOException | RuntimeException e) { // bad base64, bad DER, unknown block type
            throw new CertificateSourceException(
                    origin + ": not valid PEM (" + e.getMessage() + "; expected " + what + ")", e);
        }
        return objects;
    }

    private static String kind(Object o) {
        return switch (o) {
            case X509CertificateHolder ignored -> "a CERTIFICATE block";
            case X509CRLHolder ignored -> "an X509 CRL block";
            case PrivateKeyInfo ignored -> "a PRIVATE KEY block";
            case PEMKeyPair ignored -> "a private key block";
            default -> "a " + o.getClass().getSimpleName() + " block";
        };
    }

    private static CertificateSourceException encrypted(String origin) {
        return new CertificateSourceException(
                origin + ": the private key is encrypted (expected an unencrypted PEM key, as Istio's cacerts has)");
    }
}
