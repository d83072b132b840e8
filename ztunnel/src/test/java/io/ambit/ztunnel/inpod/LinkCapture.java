package io.ambit.ztunnel.inpod;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code tcpdump} of the TCP on one interface inside a lab namespace, written to a file that the test reads
 * back with {@code tcpdump -r}: what crossed a link, and whether any of it was plaintext.
 */
final class LinkCapture {
    private final NetnsLab lab;
    private final Process process;
    private final Path pcap;

    private LinkCapture(NetnsLab lab, Process process, Path pcap) {
        this.lab = lab;
        this.process = process;
        this.pcap = pcap;
    }

    /** Starts capturing on {@code dev} in namespace {@code ns}; returns once tcpdump listens (up to 10 s). */
    static LinkCapture start(NetnsLab lab, String ns, String dev, Path dir, String name) throws Exception {
        Path pcap = dir.resolve(name + ".pcap");
        Path log = dir.resolve(name + ".log");
        var p = lab.start(
                ns,
                log,
                "tcpdump",
                "-i",
                dev,
                "-nn",
                "-U",
                "--immediate-mode",
                "-Z",
                "root",
                "-c",
                "2000",
                "-w",
                pcap.toString(),
                "tcp");
        TestMesh.await("tcpdump listening on " + dev, Duration.ofSeconds(10), () -> read(log)
                .contains("listening on"));
        return new LinkCapture(lab, p, pcap);
    }

    /**
     * Waits (up to 10 s) until the file holds {@code count} packets matching {@code filter} whose line contains
     * {@code text}: an exchange crossed the link before the client printed, but tcpdump writes it a little later.
     */
    void awaitPackets(String filter, String text, int count) throws InterruptedException {
        TestMesh.await("the exchange in the capture (" + filter + ")", Duration.ofSeconds(10), () -> {
            try {
                return read(filter).lines().filter(l -> l.contains(text)).count() >= count;
            } catch (Exception e) {
                return false; // not written yet
            }
        });
    }

    /** Ends tcpdump (by its PID). */
    void stop() throws InterruptedException {
        NetnsLab.stop(process);
    }

    /** {@code tcpdump -r FILE -nn} with more arguments: a filter, {@code -A} for payloads. */
    String read(String... args) throws Exception {
        var cmd = new ArrayList<>(List.of("tcpdump", "-r", pcap.toString(), "-nn"));
        cmd.addAll(List.of(args));
        return lab.host(cmd.toArray(String[]::new)).out();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
