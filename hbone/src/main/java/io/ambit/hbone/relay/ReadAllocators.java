package io.ambit.hbone.relay;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

/**
 * Read allocators shared by every relayed channel. Netty gives each channel its own allocator object by
 * default; the per-read state lives in each channel's handle, so one instance can serve them all, and a
 * node holding 10,000 idle tunnels then holds 20,000 fewer objects. Set them with {@code
 * ChannelOption.RCVBUF_ALLOCATOR} (or {@code config().setRecvByteBufAllocator}) before the first read;
 * never change their settings afterwards ({@code setMaxMessagesPerRead} on a channel would change them
 * for all).
 */
public final class ReadAllocators {
    /**
     * For sockets: Netty's default (buffer sizes adapt to what each socket reads), 16 reads per wake-up as
     * Netty's stream sockets have by default.
     */
    public static final RecvByteBufAllocator SOCKET =
            (RecvByteBufAllocator) new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16);

    /**
     * For HTTP/2 stream channels: they read frames the connection already decoded and allocate nothing, so
     * a buffer-size guess (the adaptive allocator's calculator, one more object per stream) has no use;
     * only the 16 frames per read loop of Netty's default count.
     */
    public static final RecvByteBufAllocator STREAM =
            (RecvByteBufAllocator) new FixedRecvByteBufAllocator(2048).maxMessagesPerRead(16);

    private ReadAllocators() {}
}
