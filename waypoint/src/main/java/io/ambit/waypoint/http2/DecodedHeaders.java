package io.ambit.waypoint.http2;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;

/**
 * The headers of a client's HTTP/2 request as the exchange reads and edits them: validating like any request's
 * headers (names are tokens, values carry no CR, LF or NUL), except while they are filled from the HEADERS frame.
 * Those fields were validated already, names and values, by Netty's HPACK decoder (the connection is built with
 * {@code validateHeaders(true)}, which validates values too); checking each one again cost a few per cent of the
 * waypoint's CPU per request. What the stages add later (ext_authz {@code headersToUpstreamOnAllow}, JWT
 * {@code outputClaimToHeaders}) is validated as before.
 */
final class DecodedHeaders extends DefaultHttpHeaders {
    private static final DefaultHttpHeadersFactory CHECKED = DefaultHttpHeadersFactory.headersFactory();

    private final Gate gate;

    private DecodedHeaders(Gate gate, int sizeHint) {
        super(gate, gate, sizeHint);
        this.gate = gate;
    }

    static DecodedHeaders create(int sizeHint) {
        return new DecodedHeaders(new Gate(), sizeHint);
    }

    /** From now until {@link #checking()}, fields are added unchecked: only fields the decoder validated. */
    void trusting() {
        gate.open = true;
    }

    /** Validates every field added from now on. */
    void checking() {
        gate.open = false;
    }

    /** Netty's own validators for request headers, skipped while open. */
    private static final class Gate
            implements DefaultHeaders.NameValidator<CharSequence>, DefaultHeaders.ValueValidator<CharSequence> {
        private static final DefaultHeaders.NameValidator<CharSequence> NAMES = CHECKED.getNameValidator();
        private static final DefaultHeaders.ValueValidator<CharSequence> VALUES = CHECKED.getValueValidator();

        boolean open;

        @Override
        public void validateName(CharSequence name) {
            if (!open) {
                NAMES.validateName(name);
            }
        }

        @Override
        public void validate(CharSequence value) {
            if (!open) {
                VALUES.validate(value);
            }
        }
    }
}
