package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.TestNet;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The HTTP provider's connection pool keeps idle connections per destination, and forgets a destination
 * once its last idle connection has closed (endpoints come and go with the mesh: the map must not grow with
 * every endpoint ever used). A real HTTP server on 127.93.2.9 (logical, see {@link TestNet}).
 */
@ExtendWith(NoLeaks.class)
class ConnectionPoolTest {
    static final Transport transport = Transports.select();
    static EventLoopGroup group;
    static AuthzHttpServer server;

    @BeforeAll
    static void start() throws Exception {
        group = transport.newEventLoopGroup(1, "pool-test");
        server = new AuthzHttpServer(TestNet.ip("127.93.2.9"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void anIdleConnectionIsReusedAndItsDestinationForgottenOnceItCloses() throws Exception {
        var pool = new ConnectionPool(
                group,
                transport.socketChannelClass(),
                ProviderResolver.dns(),
                null,
                TestNet.ip("127.93.2.9"),
                server.port(),
                4,
                5000);
        try {
            var lease = Await.get(pool.acquire());
            assertThat(lease.reused()).isFalse();
            pool.release(lease.channel(), true);
            assertThat(pool.idleDestinations()).isEqualTo(1);

            var again = Await.get(pool.acquire());
            assertThat(again.reused())
                    .as("the idle connection to the same destination")
                    .isTrue();
            assertThat(again.channel()).isSameAs(lease.channel());
            pool.release(again.channel(), true);

            again.channel().close(); // as its idle timer or the provider would
            Await.until(() -> pool.idleDestinations() == 0, "the closed connection's destination is forgotten");
            Await.until(() -> pool.openConnections() == 0, "no connection counted as open");
        } finally {
            pool.close();
        }
    }
}
