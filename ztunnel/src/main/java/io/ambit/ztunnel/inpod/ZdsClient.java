package io.ambit.ztunnel.inpod;

import com.google.protobuf.InvalidProtocolBufferException;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.SeqpacketSocket;
import io.ambit.ztunnel.inpod.zds.Ack;
import io.ambit.ztunnel.inpod.zds.Version;
import io.ambit.ztunnel.inpod.zds.WorkloadRequest;
import io.ambit.ztunnel.inpod.zds.WorkloadResponse;
import io.ambit.ztunnel.inpod.zds.ZdsHello;
import io.ambit.ztunnel.logging.LogLimiter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ztunnel's side of ZDS (ztunnel-reference.md §1.3): connects to the CNI agent's {@code SOCK_SEQPACKET}
 * socket, says hello, then reads one {@code WorkloadRequest} per packet, has {@link InPodProxies} apply it
 * and acks each one — an empty error for success, the reason otherwise. Runs on its own platform thread
 * ({@code ambit-zds}), never an event loop: every call here blocks.
 *
 * <p>Bad input is answered, never fatal: a packet over {@value #MAX_MESSAGE_BYTES} bytes, one that is not
 * a {@code WorkloadRequest}, an {@code add} without exactly one descriptor or with one that is not a
 * network namespace, descriptors on a message that takes none — each gets an error ack naming what was
 * wrong (and every descriptor that came with it is closed), and the connection goes on. A lost
 * connection is retried with backoff from 100 ms doubling to 15 s; the pods keep running meanwhile and
 * the agent's next snapshot reconciles them.
 */
final class ZdsClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZdsClient.class);
    // an agent that keeps sending what we refuse gets an ack each time, the log a line per 10 s
    private final LogLimiter refusals = new LogLimiter(10_000);
    /** ZDS messages are a uid and three names: a few hundred bytes. */
    static final int MAX_MESSAGE_BYTES = 64 * 1024;
    /** Room for more descriptors than allowed, so extra ones are seen (and closed), not dropped unseen. */
    static final int MAX_FDS = 8;
    /**
     * The most UTF-8 bytes of error text one ack carries. Errors quote what the agent sent (a uid may be
     * up to a whole message long); an agent reading acks into a small buffer must still get one whole,
     * parseable packet, so longer text is cut, saying so.
     */
    static final int MAX_ACK_ERROR_BYTES = 1024;

    static final Duration MIN_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(15);

    private final Path path;
    private final InPodProxies proxies;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private volatile SeqpacketSocket socket;
    private volatile boolean connected;

    private ZdsClient(Path path, InPodProxies proxies) {
        this.path = path;
        this.proxies = proxies;
        this.thread = Thread.ofPlatform().name("ambit-zds").daemon(true).unstarted(this::run);
    }

    static ZdsClient start(Path path, InPodProxies proxies) {
        var client = new ZdsClient(path, proxies);
        client.thread.start();
        return client;
    }

    /** Whether a ZDS connection is up now. */
    boolean connected() {
        return connected;
    }

    private void run() {
        Duration backoff = MIN_BACKOFF;
        boolean reported = false;
        while (stop.getCount() > 0) {
            try (var s = SeqpacketSocket.connect(path)) {
                socket = s;
                if (stop.getCount() == 0) {
                    break;
                }
                proxies.connectionStarted();
                s.send(ZdsHello.newBuilder().setVersion(Version.V1).build().toByteArray());
                connected = true;
                backoff = MIN_BACKOFF;
                reported = false;
                log.info("ZDS: connected to {}", path);
                serve(s);
                log.info("ZDS: {} closed the connection", path);
            } catch (IOException | RuntimeException e) {
                if (stop.getCount() == 0) {
                    break;
                }
                if (!reported) {
                    log.warn("ZDS: {}: {} (retrying with backoff up to {})", path, e.getMessage(), MAX_BACKOFF);
                    reported = true;
                } else {
                    log.debug("ZDS: {}: {}", path, e.getMessage());
                }
            } finally {
                connected = false;
                socket = null;
            }
            try {
                if (stop.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                break;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /** Reads, applies and acks messages until the agent closes the connection. */
    private void serve(SeqpacketSocket s) throws IOException {
        while (stop.getCount() > 0) {
            var message = s.receive(MAX_MESSAGE_BYTES, MAX_FDS);
            if (message.eof()) {
                return;
            }
            String error = bounded(apply(message));
            if (!error.isEmpty()) {
                long held = refusals.tryAcquire();
                if (held >= 0) {
                    log.warn("ZDS: request refused: {}{}", error, LogLimiter.heldBack(held));
                }
            }
            s.send(WorkloadResponse.newBuilder()
                    .setAck(Ack.newBuilder().setError(error))
                    .build()
                    .toByteArray());
        }
    }

    /** Applies one message; returns the ack's error text ("" for success). Closes descriptors not kept. */
    String apply(SeqpacketSocket.Message message) {
        int[] fds = message.fds();
        if (message.truncated()) {
            closeAll(fds);
            return "message longer than " + MAX_MESSAGE_BYTES + " bytes (expected: one small WorkloadRequest)";
        }
        if (message.fdsTruncated()) {
            closeAll(fds);
            return "more than " + MAX_FDS + " descriptors with one message (expected: at most one)";
        }
        WorkloadRequest request;
        try {
            request = WorkloadRequest.parseFrom(message.data());
        } catch (InvalidProtocolBufferException e) {
            closeAll(fds);
            return "not a ZDS WorkloadRequest (" + message.data().length + " bytes): " + e.getMessage();
        }
        var kind = request.getPayloadCase();
        if (kind == WorkloadRequest.PayloadCase.ADD) {
            var add = request.getAdd();
            if (fds.length != 1) {
                closeAll(fds);
                return "add " + add.getUid() + " came with " + fds.length
                        + " descriptors (expected exactly one: the pod's network namespace)";
            }
            NetnsFd netns;
            try {
                netns = NetnsFd.adopt(fds[0]);
            } catch (NetnsFd.NotANetnsException e) {
                NetnsFd.closeQuietly(fds[0]);
                return "add " + add.getUid() + ": " + e.getMessage();
            }
            var info = add.hasWorkloadInfo()
                    ? new InPodProxies.PodInfo(
                            add.getWorkloadInfo().getName(),
                            add.getWorkloadInfo().getNamespace(),
                            add.getWorkloadInfo().getServiceAccount())
                    : null;
            return await("add " + add.getUid(), proxies.add(add.getUid(), info, netns));
        }
        if (fds.length > 0) {
            closeAll(fds);
            return kind + " came with " + fds.length + " descriptors (expected none)";
        }
        return switch (kind) {
            case KEEP ->
                await(
                        "keep " + request.getKeep().getUid(),
                        proxies.keep(request.getKeep().getUid()));
            case DEL ->
                await(
                        "del " + request.getDel().getUid(),
                        proxies.del(request.getDel().getUid()));
            case SNAPSHOT_SENT -> await("snapshot_sent", proxies.snapshotSent());
            default ->
                "WorkloadRequest without a known payload (expected: add, keep, del or snapshot_sent; "
                        + message.data().length + " bytes)";
        };
    }

    /** {@code error} cut to at most {@value #MAX_ACK_ERROR_BYTES} UTF-8 bytes, whole code points only. */
    static String bounded(String error) {
        if (error.length() * 3L <= MAX_ACK_ERROR_BYTES
                || error.getBytes(StandardCharsets.UTF_8).length <= MAX_ACK_ERROR_BYTES) {
            return error;
        }
        String more = "... (" + error.length() + " characters, cut)";
        int budget = MAX_ACK_ERROR_BYTES - more.length(); // the suffix is ASCII
        var out = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < error.length(); ) {
            int cp = error.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > budget) {
                break;
            }
            out.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return out.append(more).toString();
    }

    private static String await(String what, CompletableFuture<String> ack) {
        try {
            return ack.get(InPodProxies.APPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return what + ": not applied within " + InPodProxies.APPLY_TIMEOUT;
        } catch (ExecutionException e) {
            return what + ": " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return what + ": interrupted";
        }
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            NetnsFd.closeQuietly(fd);
        }
    }

    /** Stops: wakes the thread out of a receive or a backoff, and waits for it (up to 10 s). */
    @Override
    public void close() {
        stop.countDown();
        var s = socket;
        if (s != null) {
            s.shutdown();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
