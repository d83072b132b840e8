package io.ambit.hbone.tls;

import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes ChaCha20-Poly1305 out of TLS 1.3 before the handshake, as ztunnel does (ztunnel-reference.md §2.1:
 * AES-GCM suites only). BoringSSL ignores the TLS 1.3 cipher list on purpose and always offers and accepts
 * TLS_CHACHA20_POLY1305_SHA256; its only switch is a compliance policy, {@code SSL_CTX_set_compliance_policy},
 * which tcnative 2.0.84 neither wraps nor exports. This class calls it through the FFM API at the address
 * {@link TcnativeSymbol} finds, with {@code ssl_compliance_policy_fips_202205} (value 1): TLS 1.3 limited to
 * the AES-GCM suites. That policy also replaces the key-exchange groups (with P-256 and P-384), which are
 * put back to the configured ones right after; its other effects are compatible with HBONE (TLS 1.2 ciphers:
 * the same four ECDHE AES-GCM suites Ambit allows; signatures: ECDSA P-256/P-384 with SHA-256/384 and RSA
 * PKCS#1/PSS with SHA-256 and up, which excludes SHA-1, Ed25519 and P-521).
 *
 * <p>Where the function cannot be found safely (another tcnative build, no {@code /proc}), or with
 * {@code -D}{@value #PROPERTY}{@code =false}, contexts are left as they are and ChaCha20 is still refused,
 * after the handshake, by {@link HandshakeCheck}: a scanner then sees it "offered", but no connection uses it.
 */
final class AesGcmOnly {
    /** System property: {@code false} turns this off (a peer is then refused after the handshake). */
    static final String PROPERTY = "ambit.tls.aesGcmPolicy";

    private static final Logger log = LoggerFactory.getLogger(AesGcmOnly.class);

    /** {@code ssl_compliance_policy_fips_202205} in BoringSSL's {@code enum ssl_compliance_policy_t}. */
    private static final int FIPS_202205 = 1;

    private AesGcmOnly() {}

    /** Resolved once: the function, or why it is not used. */
    private static final class Holder {
        /** {@code int SSL_CTX_set_compliance_policy(SSL_CTX *ctx, enum ssl_compliance_policy_t policy)} */
        static final Optional<MethodHandle> SET_POLICY;

        /** {@code int SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *groups)} */
        static final Optional<MethodHandle> SET_GROUPS;

        static final String UNAVAILABLE;

        static {
            Optional<MethodHandle> policy = Optional.empty();
            Optional<MethodHandle> groups = Optional.empty();
            String reason;
            if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "").strip())) {
                reason = "turned off by -D" + PROPERTY + "=false";
            } else {
                // tcnative's own setCurvesList wants its private context handle, which Netty does not expose
                // (its context() is the SSL_CTX pointer): BoringSSL's function is called directly as well.
                TcnativeSymbol.Lookup setPolicy = TcnativeSymbol.find("SSL_CTX_set_compliance_policy");
                TcnativeSymbol.Lookup setGroups = TcnativeSymbol.find("SSL_CTX_set1_groups_list");
                reason = setPolicy.address().isEmpty() ? setPolicy.reason() : setGroups.reason();
                if (setPolicy.address().isPresent() && setGroups.address().isPresent()) {
                    Linker linker = Linker.nativeLinker();
                    policy = Optional.of(linker.downcallHandle(
                            setPolicy.address().get(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)));
                    groups = Optional.of(linker.downcallHandle(
                            setGroups.address().get(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS)));
                }
            }
            SET_POLICY = policy;
            SET_GROUPS = groups;
            UNAVAILABLE = reason;
            if (policy.isEmpty()) {
                log.warn(
                        "TLS 1.3 keeps offering ChaCha20-Poly1305 ({}); a peer that picks it is refused after the"
                                + " handshake",
                        reason);
            }
        }
    }

    /** Whether contexts get the AES-GCM-only policy; otherwise {@link #unavailability()} says why not. */
    static boolean available() {
        return Holder.SET_POLICY.isPresent();
    }

    /** Why contexts are left with ChaCha20 in TLS 1.3, or empty when they are not. */
    static String unavailability() {
        return Holder.UNAVAILABLE;
    }

    /**
     * Restricts a freshly built context (no engine made from it yet) to the AES-GCM suites in TLS 1.3, keeping
     * {@code groups} as its key-exchange groups. Does nothing when {@link #available()} is false.
     *
     * @throws SSLException when BoringSSL refuses the policy or the groups afterwards
     */
    static void apply(SslContext context, List<String> groups) throws SSLException {
        Optional<MethodHandle> setPolicy = Holder.SET_POLICY;
        if (setPolicy.isEmpty() || !(context instanceof ReferenceCountedOpenSslContext openSsl)) {
            return;
        }
        MemorySegment sslCtx = MemorySegment.ofAddress(openSsl.sslCtxPointer());
        if (sslCtx.equals(MemorySegment.NULL)) {
            throw new SSLException("the TLS context is already freed");
        }
        int policyOk;
        int groupsOk;
        try (Arena arena = Arena.ofConfined()) {
            policyOk = (int) setPolicy.get().invokeExact(sslCtx, FIPS_202205);
            // The policy set P-256 and P-384; HBONE's groups are the compliance policy's (X25519MLKEM768, X25519).
            groupsOk = policyOk != 1
                    ? 0
                    : (int) Holder.SET_GROUPS
                            .orElseThrow()
                            .invokeExact(sslCtx, arena.allocateFrom(String.join(":", groups)));
        } catch (Throwable e) {
            throw new SSLException("BoringSSL's compliance policy could not be applied: " + e, e);
        }
        if (policyOk != 1) {
            throw new SSLException("BoringSSL refused the AES-GCM-only TLS 1.3 policy (fips_202205)");
        }
        if (groupsOk != 1) {
            throw new SSLException("BoringSSL refused the key-exchange groups " + groups);
        }
    }
}
