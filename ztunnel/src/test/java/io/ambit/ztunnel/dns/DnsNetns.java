package io.ambit.ztunnel.dns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for the DNS tests, named {@code dns-<id>-<name>} (this helper's prefix), joined by veth
 * pairs made inside them (the host's namespace is not touched) and deleted by {@link #close()}. Every
 * command is bounded in time.
 */
final class DnsNetns implements AutoCloseable {
    private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    private final List<String> namespaces = new ArrayList<>();

    record Result(int exit, String out) {}

    /** Why namespaces cannot be used here (not root, a tool missing), or empty. */
    static Optional<String> unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("network-namespace tests need root (CI runs them as root)");
        }
        for (var tool : List.of("/usr/sbin/ip", "/usr/sbin/iptables")) {
            if (!Files.isExecutable(Path.of(tool)) && !Files.isExecutable(Path.of(tool.replace("/usr", "")))) {
                return Optional.of("network-namespace tests need " + tool + " (Debian: iproute2, iptables)");
            }
        }
        return Optional.empty();
    }

    String ns(String name) {
        return "dns-" + id + "-" + name;
    }

    Path path(String name) {
        return Path.of("/run/netns", ns(name));
    }

    void add(String name) throws Exception {
        host("ip", "netns", "add", ns(name));
        namespaces.add(ns(name));
        host("ip", "-n", ns(name), "link", "set", "lo", "up");
    }

    /** A veth pair {@code dnsv<id>a}/{@code b} between two namespaces, with an IPv4 address on each end, up. */
    void link(String a, String ifA, String cidrA, String b, String ifB, String cidrB) throws Exception {
        host("ip", "-n", ns(a), "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", ns(b));
        host("ip", "-n", ns(a), "addr", "add", cidrA, "dev", ifA);
        host("ip", "-n", ns(b), "addr", "add", cidrB, "dev", ifB);
        host("ip", "-n", ns(a), "link", "set", ifA, "up");
        host("ip", "-n", ns(b), "link", "set", ifB, "up");
    }

    Result host(String... command) throws Exception {
        return check(exec(Duration.ofSeconds(20), List.of(), command), command);
    }

    /** A command inside namespace {@code name}, with extra environment; fails unless it exits 0. */
    Result in(String name, List<String> env, String... command) throws Exception {
        var full = new ArrayList<>(List.of("ip", "netns", "exec", ns(name)));
        full.addAll(List.of(command));
        return check(exec(Duration.ofSeconds(30), env, full.toArray(String[]::new)), command);
    }

    private static Result check(Result r, String... command) throws IOException {
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + r.exit() + ": " + r.out());
        }
        return r;
    }

    private static Result exec(Duration timeout, List<String> env, String... command) throws Exception {
        var pb = new ProcessBuilder(command).redirectErrorStream(true);
        for (var kv : env) {
            int eq = kv.indexOf('=');
            pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        var p = pb.start();
        var out = new CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                out.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.complete("(output unreadable: " + e + ")");
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new IOException(String.join(" ", command) + " did not finish within " + timeout);
        }
        return new Result(p.exitValue(), out.get(5, TimeUnit.SECONDS));
    }

    @Override
    public void close() {
        for (var ns : namespaces.reversed()) {
            try {
                exec(Duration.ofSeconds(20), List.of(), "ip", "netns", "del", ns);
            } catch (Exception e) {
                System.err.println("could not delete network namespace " + ns + ": " + e);
            }
        }
    }
}
