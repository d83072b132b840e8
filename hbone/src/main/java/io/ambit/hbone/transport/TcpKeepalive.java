package io.ambit.hbone.transport;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * TCP keepalive of every socket a proxy owns, as ztunnel sets it (ztunnel-reference.md §1.4): probes start
 * after 180 s without traffic, then one every 180 s, and the connection is dropped after 9 unanswered ones.
 * The kernel default (2 hours idle) would leave a connection whose peer vanished (a node gone, a NAT entry
 * dropped) open for over two hours; HBONE's PING keepalive covers only the tunnel, not the app-side sockets.
 *
 * @param enabled whether {@code SO_KEEPALIVE} is set at all ({@code KEEPALIVE_ENABLED})
 * @param idle time without traffic before the first probe ({@code KEEPALIVE_TIME}), whole seconds
 * @param interval time between unanswered probes ({@code KEEPALIVE_INTERVAL}), whole seconds
 * @param probes unanswered probes before the connection is dropped ({@code KEEPALIVE_RETRIES})
 */
public record TcpKeepalive(boolean enabled, Duration idle, Duration interval, int probes) {
    /** Linux's ceiling for TCP_KEEPIDLE and TCP_KEEPINTVL ({@code MAX_TCP_KEEPIDLE}, seconds). */
    static final long MAX_SECONDS = 32_767;

    /** Linux's ceiling for TCP_KEEPCNT ({@code MAX_TCP_KEEPCNT}). */
    static final int MAX_PROBES = 127;

    public TcpKeepalive {
        seconds("idle", idle);
        seconds("interval", interval);
        if (probes < 1 || probes > MAX_PROBES) {
            throw new IllegalArgumentException("probes: " + probes + " (expected: 1 to " + MAX_PROBES + ")");
        }
    }

    /** ztunnel's defaults: on, 180 s idle, 180 s interval, 9 probes. */
    public static TcpKeepalive defaults() {
        return new TcpKeepalive(true, Duration.ofSeconds(180), Duration.ofSeconds(180), 9);
    }

    /**
     * The defaults with ztunnel's overrides from the environment: {@code KEEPALIVE_ENABLED} ({@code true} or
     * {@code false}), {@code KEEPALIVE_TIME} and {@code KEEPALIVE_INTERVAL} (durations such as {@code 180s},
     * {@code 3m} or a bare number of seconds), {@code KEEPALIVE_RETRIES} (a count).
     *
     * @throws IllegalArgumentException naming the variable, its value and what is expected
     */
    public static TcpKeepalive fromEnvironment(Map<String, String> env) {
        TcpKeepalive d = defaults();
        boolean enabled = d.enabled;
        String flag = value(env, "KEEPALIVE_ENABLED");
        if (flag != null) {
            enabled = switch (flag.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default ->
                    throw new IllegalArgumentException(
                            "KEEPALIVE_ENABLED is \"" + flag + "\" (expected: true or false)");
            };
        }
        Duration idle = duration(env, "KEEPALIVE_TIME", d.idle);
        Duration interval = duration(env, "KEEPALIVE_INTERVAL", d.interval);
        int probes = d.probes;
        String retries = value(env, "KEEPALIVE_RETRIES");
        if (retries != null) {
            probes = -1;
            try {
                probes = Integer.parseInt(retries);
            } catch (NumberFormatException e) {
                // reported below
            }
            if (probes < 1 || probes > MAX_PROBES) {
                throw new IllegalArgumentException(
                        "KEEPALIVE_RETRIES is \"" + retries + "\" (expected: a count from 1 to " + MAX_PROBES + ")");
            }
        }
        return new TcpKeepalive(enabled, idle, interval, probes);
    }

    /** {@link #idle()} in the seconds the socket option takes. */
    public int idleSeconds() {
        return (int) idle.toSeconds();
    }

    /** {@link #interval()} in the seconds the socket option takes. */
    public int intervalSeconds() {
        return (int) interval.toSeconds();
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static Duration duration(Map<String, String> env, String name, Duration fallback) {
        String text = value(env, name);
        if (text == null) {
            return fallback;
        }
        String t = text.toLowerCase(Locale.ROOT);
        long seconds = -1;
        try {
            if (t.endsWith("h")) {
                seconds = Math.multiplyExact(Long.parseLong(t.substring(0, t.length() - 1)), 3600);
            } else if (t.endsWith("m")) {
                seconds = Math.multiplyExact(Long.parseLong(t.substring(0, t.length() - 1)), 60);
            } else if (t.endsWith("s")) {
                seconds = Long.parseLong(t.substring(0, t.length() - 1));
            } else {
                seconds = Long.parseLong(t);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        if (seconds < 1 || seconds > MAX_SECONDS) {
            throw new IllegalArgumentException(name + " is \"" + text + "\" (expected: whole seconds from 1s to "
                    + MAX_SECONDS + "s, such as 180s, 3m or 180)");
        }
        return Duration.ofSeconds(seconds);
    }

    private static void seconds(String name, Duration value) {
        if (value == null || value.getNano() != 0 || value.toSeconds() < 1 || value.toSeconds() > MAX_SECONDS) {
            throw new IllegalArgumentException(
                    name + ": " + value + " (expected: whole seconds from 1 to " + MAX_SECONDS + ")");
        }
    }
}
