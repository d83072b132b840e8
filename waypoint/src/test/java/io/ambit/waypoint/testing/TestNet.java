package io.ambit.waypoint.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The loopback addresses of this test JVM. The waypoint's tests are written for {@code 127.92.x.y},
 * {@code 127.93.x.y} and {@code 127.98.x.y} with fixed ports (a waypoint on :15008, apps on :8080, as the
 * mesh documents declare them), so two JVMs running them at once — two engineers, two builds — collide
 * ("Address already in use"). Each JVM therefore claims a block of its own once, the first time an address
 * is asked for, and every test address goes through {@link #net}, {@link #ip} or {@link #rewrite}: logical
 * {@code 127.92}, {@code 127.93}, {@code 127.98} become {@code 127.B}, {@code 127.B+1}, {@code 127.B+2}.
 *
 * <p>Claiming is binding: the JVM holds a listening socket on {@code 127.B.255.254:}{@value #CLAIM_PORT}
 * until it exits (the kernel releases it even after a crash), and a block whose claim socket does not bind
 * belongs to another JVM. Blocks start at {@code 127.110} (no other test of the project uses
 * {@code 127.110–255}); the first one tried depends on the process id, so concurrent JVMs rarely race.
 */
public final class TestNet {
    /** The port of the claim socket on {@code 127.B.255.254}. */
    public static final int CLAIM_PORT = 15999;

    private static final int FIRST = 110;
    private static final int BLOCKS = (254 - FIRST) / 3; // B+2 <= 253
    private static final Pattern LOGICAL = Pattern.compile("\\b127\\.(92|93|98)\\.");

    private static volatile Claim claim;

    private record Claim(int base, ServerSocket socket) {}

    private TestNet() {}

    /** {@code "127.B"} for logical {@code 127.<second>} ({@code 92}, {@code 93} or {@code 98}). */
    public static String net(int second) {
        return "127." + second(second);
    }

    /** The address {@code logical} ({@code "127.98.1.50"}) in this JVM's block; other addresses unchanged. */
    public static String ip(String logical) {
        return rewrite(logical);
    }

    /** The address {@code logical} in this JVM's block, resolved. */
    public static InetAddress address(String logical) {
        try {
            return InetAddress.getByName(ip(logical));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code text} (a mesh document, a URL, an expected log value) with every logical address moved. */
    public static String rewrite(String text) {
        Matcher m = LOGICAL.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            m.appendReplacement(out, "127." + second(Integer.parseInt(m.group(1))) + ".");
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The second octet of this JVM's block that stands for logical {@code second}. */
    private static int second(int logical) {
        int offset =
                switch (logical) {
                    case 92 -> 0;
                    case 93 -> 1;
                    case 98 -> 2;
                    default ->
                        throw new IllegalArgumentException(
                                "logical test net 127." + logical + " (expected: 127.92, 127.93 or 127.98)");
                };
        return claimed().base() + offset;
    }

    private static Claim claimed() {
        Claim c = claim;
        if (c == null) {
            synchronized (TestNet.class) {
                c = claim;
                if (c == null) {
                    c = claimBlock();
                    claim = c;
                }
            }
        }
        return c;
    }

    /** Tries each block once (bounded: {@value #BLOCKS} binds), starting at one chosen by the process id. */
    private static Claim claimBlock() {
        int start = (int) (ProcessHandle.current().pid() % BLOCKS);
        IOException last = null;
        for (int i = 0; i < BLOCKS; i++) {
            int base = FIRST + 3 * ((start + i) % BLOCKS);
            ServerSocket socket = null;
            try {
                socket = new ServerSocket();
                socket.setReuseAddress(false);
                socket.bind(new InetSocketAddress(InetAddress.getByName("127." + base + ".255.254"), CLAIM_PORT), 1);
                return new Claim(base, socket); // held until the JVM exits
            } catch (IOException e) {
                last = e;
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // it never bound
                    }
                }
            }
        }
        throw new IllegalStateException("no free loopback block for the waypoint tests in 127." + FIRST
                + "-253 (each claimed at .255.254:" + CLAIM_PORT + "): " + last);
    }
}
