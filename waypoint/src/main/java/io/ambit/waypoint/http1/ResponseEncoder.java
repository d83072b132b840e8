package io.ambit.waypoint.http1;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * The response encoder, told whether the response answers a HEAD (its headers announce a body that is
 * never sent, so the encoder must not add chunked framing). Requests are served one at a time, so one
 * flag suffices.
 */
final class ResponseEncoder extends HttpResponseEncoder {
    private boolean head;

    void answeringHead(boolean value) {
        head = value;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return head || super.isContentAlwaysEmpty(msg);
    }
}
