package io.ambit.ztunnel.inpod;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for one test class, all named {@code ambit-t-<id>-<name>} (this helper's prefix),
 * joined by veth pairs created directly inside them (the host's namespace is never touched), and the
 * processes the test starts in them. {@link #close()} ends those processes (by their PID) and deletes
 * the namespaces. Every command is bounded in time.
 */
final class NetnsLab implements AutoCloseable {
    private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    /** Why the lab cannot run here (not root, a tool missing), or empty. */
    static Optional<String> unavailable(String... tools) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("network-namespace tests need root (CI runs them as root); user is "
                    + System.getProperty("user.name"));
        }
        for (String tool : tools) {
            if (which(tool).isEmpty()) {
                return Optional.of("network-namespace tests need `" + tool + "` on PATH (Debian: "
                        + switch (tool) {
                            case "ip" -> "iproute2";
                            case "curl" -> "curl";
                            case "node" -> "nodejs";
                            default -> tool;
                        }
                        + ")");
            }
        }
        return Optional.empty();
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

    /** The full name of namespace {@code name}. */
    String ns(String name) {
        return "ambit-t-" + id + "-" + name;
    }

    /** {@code /run/netns/...}: what a CNI agent would open and hand over. */
    Path path(String name) {
        return Path.of("/run/netns", ns(name));
    }

    /** Creates namespace {@code name} with loopback up. */
    void add(String name) throws Exception {
        host("ip", "netns", "add", ns(name));
        namespaces.add(ns(name));
        host("ip", "-n", ns(name), "link", "set", "lo", "up");
    }

    /**
     * A veth pair between two namespaces, with an IPv4 address (CIDR) on each end, both up.
     */
    void link(String a, String ifA, String cidrA, String b, String ifB, String cidrB) throws Exception {
        host("ip", "-n", ns(a), "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", ns(b));
        host("ip", "-n", ns(a), "addr", "add", cidrA, "dev", ifA);
        host("ip", "-n", ns(b), "addr", "add", cidrB, "dev", ifB);
        host("ip", "-n", ns(a), "link", "set", ifA, "up");
        host("ip", "-n", ns(b), "link", "set", ifB, "up");
    }

    /** The result of a finished command. */
    record Result(int exit, String out) {}

    /** Runs a command on the host, failing with its output unless it exits 0. */
    Result host(String... command) throws Exception {
        var r = exec(Duration.ofSeconds(20), command);
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + r.exit() + ": " + r.out());
        }
        return r;
    }

    /** Runs a command inside namespace {@code name}, failing with its output unless it exits 0. */
    Result in(String name, String... command) throws Exception {
        var r = exec(name, Duration.ofSeconds(20), command);
        if (r.exit() != 0) {
            throw new IOException(
                    "in " + name + ": " + String.join(" ", command) + " exited " + r.exit() + ": " + r.out());
        }
        return r;
    }

    /** Runs a command inside namespace {@code name}, whatever its exit status, for up to {@code timeout}. */
    Result exec(String name, Duration timeout, String... command) throws Exception {
        var full = new ArrayList<>(List.of("ip", "netns", "exec", ns(name)));
        full.addAll(List.of(command));
        return exec(timeout, full.toArray(String[]::new));
    }

    private static Result exec(Duration timeout, String... command) throws Exception {
        var p = new ProcessBuilder(command).redirectErrorStream(true).start();
        var out = new java.util.concurrent.CompletableFuture<String>();
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

    /** Starts a long-running process inside namespace {@code name}; ended (by PID) in {@link #close()}. */
    Process start(String name, Path log, String... command) throws IOException {
        var full = new ArrayList<>(List.of("ip", "netns", "exec", ns(name)));
        full.addAll(List.of(command));
        var p = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        processes.add(p);
        return p;
    }

    /** Ends one started process by its PID, waiting up to 5 s. */
    static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
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
                exec(Duration.ofSeconds(20), "ip", "netns", "del", ns);
            } catch (Exception e) {
                System.err.println("could not delete network namespace " + ns + ": " + e);
            }
        }
    }
}
