package io.ambit.ztunnel.inpod;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * Network namespaces for one test class, all named {@code v6-<id>-<name>}, joined by veth pairs created
 * directly inside them (the host's namespace is never touched), and the processes the test starts in them.
 * {@link #close()} ends those processes (by their PID) and deletes the namespaces. Every command is bounded
 * in time. The in-pod capture tests and the DNS capture tests share it.
 */
public final class NetnsLab implements AutoCloseable {
    private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    /**
     * Skips the test unless it runs as root (CI does); fails it, naming the Debian package, when root lacks
     * one of {@code tools}: CI installs them all (.ci/run), so a missing one there is a broken set-up, not a
     * reason to pass silently.
     */
    public static void require(String... tools) {
        String user = System.getProperty("user.name");
        assumeTrue(
                "root".equals(user),
                () -> "skipped: network-namespace tests need root (CI runs them as root); user is " + user);
        for (String tool : tools) {
            if (which(tool).isEmpty()) {
                throw new AssertionError("network-namespace tests need `" + tool + "` on PATH (Debian: "
                        + switch (tool) {
                            case "ip", "ss" -> "iproute2";
                            case "iptables", "iptables-save", "ip6tables", "ip6tables-save" -> "iptables";
                            case "node" -> "nodejs";
                            case "dig" -> "bind9-dnsutils";
                            default -> tool;
                        }
                        + ")");
            }
        }
    }

    private static Optional<Path> which(String tool) {
        for (String dir : System.getenv()
                .getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                .split(":")) {
            for (String d : new String[] {dir, "/usr/sbin", "/sbin"}) {
                Path p = Path.of(d, tool);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /** {@code scripts/ambit-inpod-redirect.sh}, from the module's directory or the repository's. */
    public static Path script() {
        for (var p :
                new Path[] {Path.of("scripts/ambit-inpod-redirect.sh"), Path.of("../scripts/ambit-inpod-redirect.sh")
                }) {
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException(
                "scripts/ambit-inpod-redirect.sh not found from " + Path.of("").toAbsolutePath());
    }

    /** The full name of namespace {@code name}. */
    public String ns(String name) {
        return "v6-" + id + "-" + name;
    }

    /** {@code /run/netns/...}: what a CNI agent would open and hand over. */
    public Path path(String name) {
        return Path.of("/run/netns", ns(name));
    }

    /** Creates namespace {@code name} with loopback up. */
    public void add(String name) throws Exception {
        host("ip", "netns", "add", ns(name));
        namespaces.add(ns(name));
        host("ip", "-n", ns(name), "link", "set", "lo", "up");
    }

    /** A veth pair between two namespaces, with an address (CIDR, IPv4 or IPv6) on each end, both up. */
    public void link(String a, String ifA, String cidrA, String b, String ifB, String cidrB) throws Exception {
        host("ip", "-n", ns(a), "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", ns(b));
        address(a, ifA, cidrA);
        address(b, ifB, cidrB);
        host("ip", "-n", ns(a), "link", "set", ifA, "up");
        host("ip", "-n", ns(b), "link", "set", ifB, "up");
    }

    /**
     * One more address on an interface. IPv6 ones skip duplicate address detection ({@code nodad}): usable at
     * once, rather than after a second of waiting that a test would have to poll for.
     */
    public void address(String name, String dev, String cidr) throws Exception {
        if (cidr.contains(":")) {
            host("ip", "-n", ns(name), "-6", "addr", "add", cidr, "dev", dev, "nodad");
        } else {
            host("ip", "-n", ns(name), "addr", "add", cidr, "dev", dev);
        }
    }

    /** The result of a finished command. */
    public record Result(int exit, String out) {}

    /** Runs a command on the host, failing with its output unless it exits 0. */
    public Result host(String... command) throws Exception {
        return check(exec(Duration.ofSeconds(20), List.of(), command), "", command);
    }

    /** Runs a command inside namespace {@code name}, failing with its output unless it exits 0. */
    public Result in(String name, String... command) throws Exception {
        return in(name, List.of(), command);
    }

    /** {@link #in(String, String...)} with extra environment variables ({@code NAME=value}). */
    public Result in(String name, List<String> env, String... command) throws Exception {
        return check(exec(Duration.ofSeconds(30), env, inNamespace(name, command)), "in " + name + ": ", command);
    }

    /** Runs a command inside namespace {@code name}, whatever its exit status, for up to {@code timeout}. */
    public Result exec(String name, Duration timeout, String... command) throws Exception {
        return exec(timeout, List.of(), inNamespace(name, command));
    }

    /** Starts a long-running process inside namespace {@code name}; ended (by PID) in {@link #close()}. */
    public Process start(String name, Path log, String... command) throws IOException {
        var p = new ProcessBuilder(inNamespace(name, command))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        processes.add(p);
        return p;
    }

    /** Ends one started process by its PID, waiting up to 5 s. */
    public static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Waits (up to 20 s) until something listens on TCP {@code port} in namespace {@code name}. */
    public void awaitListening(String name, int port) throws Exception {
        awaitListener(name, port, true);
    }

    /** Waits (up to 20 s) until nothing listens on TCP {@code port} in namespace {@code name} any more. */
    public void awaitClosed(String name, int port) throws Exception {
        awaitListener(name, port, false);
    }

    private void awaitListener(String name, int port, boolean listening) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            var r = exec(name, Duration.ofSeconds(10), "ss", "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && r.out().isBlank() != listening) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError((listening ? "nothing listens on :" + port : ":" + port + " still listening")
                        + " in " + name + " after 20 s: " + r.out());
            }
            Thread.sleep(50);
        }
    }

    private String[] inNamespace(String name, String... command) {
        var full = new ArrayList<>(List.of("ip", "netns", "exec", ns(name)));
        full.addAll(List.of(command));
        return full.toArray(String[]::new);
    }

    private static Result check(Result r, String where, String... command) throws IOException {
        if (r.exit() != 0) {
            throw new IOException(where + String.join(" ", command) + " exited " + r.exit() + ": " + r.out());
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
        for (var p : processes) {
            try {
                stop(p);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (var ns : namespaces.reversed()) {
            try {
                exec(Duration.ofSeconds(20), List.of(), "ip", "netns", "del", ns);
            } catch (Exception e) {
                System.err.println("could not delete network namespace " + ns + ": " + e);
            }
        }
    }
}
