package io.ambit.ztunnel.inbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** ztunnel's {@code LOCALHOST_APP_TUNNEL}: true unless set to false; anything else is refused by name. */
class LocalhostAppTunnelTest {
    @Test
    void trueUnlessSetToFalse() {
        assertThat(InboundHandler.localhostAppTunnel(Map.of())).isTrue();
        assertThat(InboundHandler.localhostAppTunnel(Map.of("LOCALHOST_APP_TUNNEL", "true")))
                .isTrue();
        assertThat(InboundHandler.localhostAppTunnel(Map.of("LOCALHOST_APP_TUNNEL", " False ")))
                .isFalse();
    }

    @Test
    void anythingElseIsRefusedNamingTheVariable() {
        assertThatThrownBy(() -> InboundHandler.localhostAppTunnel(Map.of("LOCALHOST_APP_TUNNEL", "maybe")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LOCALHOST_APP_TUNNEL=maybe")
                .hasMessageContaining("expected true or false");
    }
}
