package io.ambit.hbone.server;

import java.util.concurrent.atomic.LongAdder;

/** The server's running counts; read through {@link HboneServer#stats()}. */
final class ServerCounters {
    final LongAdder handshakes = new LongAdder();
    final LongAdder handshakeFailures = new LongAdder();
    final LongAdder connectionsOpen = new LongAdder();
    final LongAdder streamsOpen = new LongAdder();
    final LongAdder accepted = new LongAdder();
    final LongAdder rejected = new LongAdder();

    ServerStats snapshot() {
        return new ServerStats(
                handshakes.sum(),
                handshakeFailures.sum(),
                connectionsOpen.sum(),
                streamsOpen.sum(),
                accepted.sum(),
                rejected.sum());
    }
}
