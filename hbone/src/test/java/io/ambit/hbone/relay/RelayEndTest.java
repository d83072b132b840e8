package io.ambit.hbone.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a relay reports its end: the callback given to {@link Relay#start(io.netty.channel.Channel,
 * io.netty.channel.Channel, java.util.function.Consumer)} once, and {@link Relay#result()} whether asked before
 * or after the end (it is created only on demand, so an idle relay holds no future).
 */
@ExtendWith(NoLeaks.class)
final class RelayEndTest {

    @Test
    void theCallbackIsToldOnceAndAFutureAskedAfterTheEndHasTheSameResult() {
        var a = new EmbeddedChannel();
        var b = new EmbeddedChannel();
        List<RelayResult> told = new ArrayList<>();
        Relay relay = Relay.start(a, b, told::add);

        a.writeInbound(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
        ByteBuf relayed = b.readOutbound();
        assertThat(relayed.readableBytes()).isEqualTo(3);
        relayed.release();
        assertThat(relay.bytesAToB()).isEqualTo(3);
        assertThat(told).as("nothing ends while both channels are open").isEmpty();

        a.close(); // closed early: the relay resets (closes) the other side too
        b.runPendingTasks();

        assertThat(told).containsExactly(new RelayResult(3, 0, RelayResult.Outcome.RESET, null));
        assertThat(relay.result()).isCompletedWithValue(told.getFirst());
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void aFutureAskedBeforeTheEndCompletesWithTheCallbacksResult() {
        var a = new EmbeddedChannel();
        var b = new EmbeddedChannel();
        List<RelayResult> told = new ArrayList<>();
        Relay relay = Relay.start(a, b, told::add);
        var result = relay.result();
        assertThat(result).isNotDone();
        assertThat(relay.result()).as("one future, however often asked").isSameAs(result);

        b.writeInbound(Unpooled.wrappedBuffer(new byte[] {4, 5}));
        ByteBuf relayed = a.readOutbound();
        relayed.release();
        b.close();
        a.runPendingTasks();

        assertThat(result).isCompletedWithValue(new RelayResult(0, 2, RelayResult.Outcome.RESET, null));
        assertThat(told).containsExactly(result.join());
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void aFailingCallbackDoesNotKeepTheFutureFromCompleting() {
        var a = new EmbeddedChannel();
        var b = new EmbeddedChannel();
        Relay relay = Relay.start(a, b, r -> {
            throw new IllegalStateException("the caller's bug");
        });
        var result = relay.result();
        a.close();
        b.runPendingTasks();
        assertThat(result).isCompleted();
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }
}
