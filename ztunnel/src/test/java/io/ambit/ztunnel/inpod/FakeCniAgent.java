package io.ambit.ztunnel.inpod;

import io.ambit.ztunnel.inpod.sys.SeqpacketSocket;
import io.ambit.ztunnel.inpod.zds.AddWorkload;
import io.ambit.ztunnel.inpod.zds.DelWorkload;
import io.ambit.ztunnel.inpod.zds.KeepWorkload;
import io.ambit.ztunnel.inpod.zds.SnapshotSent;
import io.ambit.ztunnel.inpod.zds.WorkloadInfo;
import io.ambit.ztunnel.inpod.zds.WorkloadRequest;
import io.ambit.ztunnel.inpod.zds.WorkloadResponse;
import io.ambit.ztunnel.inpod.zds.ZdsHello;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The CNI node agent's end of ZDS, as a test plays it: serves a {@code SOCK_SEQPACKET} socket, takes
 * ztunnel's connection and hello, then sends requests (with descriptors) and reads the ack of each.
 * Every wait is bounded by {@code SO_RCVTIMEO}.
 */
final class FakeCniAgent implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(60);

    private final SeqpacketSocket listener;
    private SeqpacketSocket conn;

    FakeCniAgent(Path socket) throws IOException {
        listener = SeqpacketSocket.listen(socket, 4);
        listener.receiveTimeout(WAIT);
    }

    /** Waits for ztunnel to connect and say hello; returns the hello. */
    ZdsHello accept() throws IOException {
        if (conn != null) {
            conn.close();
        }
        conn = listener.accept();
        conn.receiveTimeout(WAIT);
        var m = conn.receive(4096, 0);
        return ZdsHello.parseFrom(m.data());
    }

    /** Sends raw bytes (and descriptors) and returns the ack's error text. */
    String sendRaw(byte[] bytes, int... fds) throws IOException {
        conn.send(bytes, fds);
        var m = conn.receive(64 * 1024, 0);
        if (m.eof()) {
            throw new IOException("ztunnel closed the ZDS connection instead of acking");
        }
        var response = WorkloadResponse.parseFrom(m.data());
        if (!response.hasAck()) {
            throw new IOException("ztunnel answered without an ack: " + response);
        }
        return response.getAck().getError();
    }

    String send(WorkloadRequest request, int... fds) throws IOException {
        return sendRaw(request.toByteArray(), fds);
    }

    String add(String uid, String name, String namespace, String serviceAccount, int netnsFd) throws IOException {
        return send(
                WorkloadRequest.newBuilder()
                        .setAdd(AddWorkload.newBuilder()
                                .setUid(uid)
                                .setWorkloadInfo(WorkloadInfo.newBuilder()
                                        .setName(name)
                                        .setNamespace(namespace)
                                        .setServiceAccount(serviceAccount)))
                        .build(),
                netnsFd);
    }

    String keep(String uid) throws IOException {
        return send(WorkloadRequest.newBuilder()
                .setKeep(KeepWorkload.newBuilder().setUid(uid))
                .build());
    }

    String del(String uid) throws IOException {
        return send(WorkloadRequest.newBuilder()
                .setDel(DelWorkload.newBuilder().setUid(uid))
                .build());
    }

    String snapshotSent() throws IOException {
        return send(WorkloadRequest.newBuilder()
                .setSnapshotSent(SnapshotSent.getDefaultInstance())
                .build());
    }

    /** Drops the current connection (ztunnel should reconnect). */
    void disconnect() {
        if (conn != null) {
            conn.close();
            conn = null;
        }
    }

    @Override
    public void close() {
        disconnect();
        listener.shutdown();
        listener.close();
    }
}
