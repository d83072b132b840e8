package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.ambit.ztunnel.inpod.sys.ChannelFd;
import io.ambit.ztunnel.inpod.sys.OriginalDestination;
import io.ambit.ztunnel.inpod.sys.SocketOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FFM socket calls on real sockets of the chosen transport (127.90.4.0/24): SO_MARK set and read
 * back, SO_ORIGINAL_DST empty for a connection nothing redirected (the local address is then the
 * destination), and errors naming the call for a descriptor that is no socket.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SocketOptionsTest {
    @TempDir
    Path dir;

    @Test
    void aConnectionNothingRedirectedHasNoOriginalDestinationAndCarriesTheMark() throws Exception {
        assumeThat(SocketOptions.unavailability())
                .as("FFM socket calls need Linux")
                .isEmpty();
        try (var mesh = new TestMesh(dir, "workloads: []\n")) {
            var accepted = new CompletableFuture<Channel>();
            var ip = InetAddress.getByName("127.90.4.1");
            Channel server = new ServerBootstrap()
                    .group(mesh.group)
                    .channel(mesh.transport.serverChannelClass())
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accepted.complete(ch);
                        }
                    })
                    .bind(new InetSocketAddress(ip, 0))
                    .sync()
                    .channel();
            Channel client = new Bootstrap()
                    .group(mesh.group)
                    .channel(mesh.transport.socketChannelClass())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(server.localAddress())
                    .sync()
                    .channel();
            try {
                Channel child = accepted.get(10, TimeUnit.SECONDS);
                assumeThat(ChannelFd.of(child))
                        .as("a transport with descriptors")
                        .isPresent();
                assertThat(OriginalDestination.of(child)).isEmpty();
                assertThat(OriginalDestination.orLocal(child)).isEqualTo(server.localAddress());

                int fd = ChannelFd.of(client).getAsInt();
                assumeThat(System.getProperty("user.name"))
                        .as("SO_MARK needs CAP_NET_ADMIN (CI runs as root)")
                        .isEqualTo("root");
                SocketOptions.setMark(fd, SocketOptions.ZTUNNEL_MARK);
                assertThat(SocketOptions.mark(fd)).isEqualTo(0x539);
            } finally {
                client.close().sync();
                server.close().sync();
            }
        }
    }

    @Test
    void aDescriptorThatIsNoSocketIsAClearError() throws Exception {
        assumeThat(SocketOptions.unavailability()).isEmpty();
        assertThatThrownBy(() -> SocketOptions.originalDestination(-1, false))
                .hasMessageContaining("getsockopt(SO_ORIGINAL_DST)")
                .hasMessageContaining("errno 9"); // EBADF
    }

    @Test
    void unavailabilityIsEmptyOnLinux() {
        assumeThat(System.getProperty("os.name")).isEqualTo("Linux");
        assertThat(SocketOptions.unavailability()).isEqualTo(Optional.empty());
    }
}
