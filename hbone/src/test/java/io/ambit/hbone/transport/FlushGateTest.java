package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What reaches the TLS handler's place through a {@link FlushGate}: every write, and a flush only after one. */
final class FlushGateTest {
    /** Stands where the SslHandler is: records what the gate lets through, in order. */
    private static final class Below extends ChannelOutboundHandlerAdapter {
        final List<String> seen = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            seen.add("write " + ((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
            ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            seen.add("flush");
            ctx.flush();
        }
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void aFlushWithNothingWrittenSinceTheLastOneStopsAtTheGate() {
        Below below = new Below();
        EmbeddedChannel channel = new EmbeddedChannel(below, new FlushGate());
        channel.flush(); // the first flush passes: the gate does not know what was written before it came
        below.seen.clear();

        channel.flush();
        channel.flush();
        assertThat(below.seen).isEmpty();

        channel.write(text("a"));
        channel.flush();
        channel.flush();
        assertThat(below.seen).containsExactly("write a", "flush");
        assertThat((ByteBuf) channel.readOutbound()).satisfies(b -> {
            assertThat(b.toString(StandardCharsets.US_ASCII)).isEqualTo("a");
            b.release();
        });
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aWriteMadeWhileAFlushCompletesIsFlushedByTheNextFlush() {
        Below below = new Below();
        EmbeddedChannel channel = new EmbeddedChannel(below, new FlushGate());
        channel.flush();
        below.seen.clear();

        // A listener of the first write writes again once the flush completes it (as an HTTP/2 codec may).
        channel.write(text("one")).addListener(f -> channel.write(text("two")));
        channel.flush();
        assertThat(below.seen).containsExactly("write one", "flush", "write two");
        channel.flush();
        assertThat(below.seen).containsExactly("write one", "flush", "write two", "flush");
        for (String expected : List.of("one", "two")) {
            ByteBuf b = channel.readOutbound();
            assertThat(b.toString(StandardCharsets.US_ASCII)).isEqualTo(expected);
            b.release();
        }
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void switchedOnByDefaultAndPlacedRightAfterTheGivenHandler() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast("tls", new ChannelOutboundHandlerAdapter());
        assertThat(FlushGate.addAfter(channel.pipeline(), "tls")).isEqualTo(FlushGate.NAME);
        assertThat(channel.pipeline().names()).containsSubsequence("tls", FlushGate.NAME);
        assertThat(channel.finish()).isFalse();
    }
}
