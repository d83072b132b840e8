package io.ambit.cli.run;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code openssl s_client} (OpenSSL 3.0: no ML-KEM) offering X25519 only, TLS 1.3, ALPN h2: what
 * a classic peer sees of an HBONE port. No client certificate: the key exchange is decided in the
 * ServerHello, before the server asks for one.
 */
public final class OpenSslProbe {
    public static final String OPENSSL = "/usr/bin/openssl";

    public record Result(int exit, String output) {
        /** The server answered with an X25519 key share: the classic key exchange was accepted. */
        public boolean keyExchangeX25519() {
            return output.contains("Server Temp Key: X25519");
        }
    }

    private OpenSslProbe() {}

    public static boolean available() {
        return Files.isExecutable(Path.of(OPENSSL));
    }

    public static Result x25519Only(String ip, int port) throws Exception {
        var p = new ProcessBuilder(List.of(
                        OPENSSL,
                        "s_client",
                        "-connect",
                        ip + ":" + port,
                        "-tls1_3",
                        "-groups",
                        "X25519",
                        "-alpn",
                        "h2"))
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().close(); // stdin at EOF: s_client ends right after the handshake
        boolean exited = p.waitFor(30, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
            throw new AssertionError("openssl s_client to " + ip + ":" + port + " did not end within 30 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.exitValue(), out);
    }
}
