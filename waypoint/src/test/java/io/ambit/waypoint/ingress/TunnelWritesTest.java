package io.ambit.waypoint.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What an inner HTTP/2 connection's writes become on its tunnel: everything written in one event-loop turn is
 * one write, flushed once by a task after the turn (the embedded channel's pending tasks stand for the rest of
 * the turn); a close sends what is pending first; a tunnel gone before the task leaves nothing behind. Writes go
 * through the pipeline, as the connection handler's do: the embedded channel's own write and flush would run the
 * pending tasks at once.
 */
@ExtendWith(NoLeaks.class)
class TunnelWritesTest {
    /** What reached the tunnel (the embedded channel's head), one entry per write, in order. */
    private final List<String> tunnel = new ArrayList<>();

    private int flushesSeen;
    private final EmbeddedChannel channel = new EmbeddedChannel(
            new ChannelOutboundHandlerAdapter() {
                @Override
                public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                    ByteBuf buf = (ByteBuf) msg;
                    tunnel.add(buf.toString(StandardCharsets.US_ASCII));
                    buf.release();
                    promise.setSuccess();
                }

                @Override
                public void flush(ChannelHandlerContext ctx) {
                    flushesSeen++;
                    ctx.flush();
                }
            },
            new TunnelWrites());

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private io.netty.channel.ChannelPipeline pipe() {
        return channel.pipeline();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.directBuffer().writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void writesAndFlushesOfOneTurnReachTheTunnelAsOneWriteAfterIt() {
        ChannelPromise header = channel.newPromise();
        pipe().write(bytes("HEADERS-1"), header);
        pipe().flush();
        pipe().write(bytes("DATA-1"), channel.newPromise());
        pipe().write(bytes("HEADERS-2"), channel.voidPromise());
        pipe().flush();

        assertThat(tunnel).as("nothing is written during the turn").isEmpty();
        assertThat(header.isDone())
                .as("a frame's promise waits for the tunnel's write")
                .isFalse();

        channel.runPendingTasks(); // the turn ends

        assertThat(tunnel).containsExactly("HEADERS-1DATA-1HEADERS-2");
        assertThat(flushesSeen).isEqualTo(1);
        assertThat(header.isSuccess()).isTrue();
    }

    @Test
    void eachTurnHasItsOwnWrite() {
        pipe().write(bytes("a"), channel.voidPromise());
        pipe().flush();
        channel.runPendingTasks();
        pipe().write(bytes("b"), channel.voidPromise());
        pipe().flush();
        channel.runPendingTasks();

        assertThat(tunnel).containsExactly("a", "b");
    }

    @Test
    void aCloseSendsWhatIsPendingFirst() {
        pipe().write(bytes("GOAWAY"), channel.voidPromise());
        pipe().flush();
        pipe().close();

        assertThat(tunnel).containsExactly("GOAWAY");
        assertThat(channel.isOpen()).isFalse();
        channel.runPendingTasks(); // the turn's task finds nothing more to send
        assertThat(tunnel).containsExactly("GOAWAY");
    }

    @Test
    void aTunnelGoneBeforeTheTaskReleasesWhatWasPendingAndFailsItsPromises() {
        ChannelPromise promise = channel.newPromise();
        ByteBuf held = bytes("lost");
        pipe().write(held, promise);
        pipe().flush();

        channel.pipeline().remove(TunnelWrites.class);
        channel.runPendingTasks();

        assertThat(held.refCnt()).isZero();
        assertThat(promise.isSuccess()).isFalse();
        assertThat(promise.cause()).isNotNull();
        assertThat(tunnel).isEmpty();
    }
}
