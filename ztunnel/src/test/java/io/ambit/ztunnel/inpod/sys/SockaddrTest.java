package io.ambit.ztunnel.inpod.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code sockaddr_in} / {@code sockaddr_in6} as {@code SO_ORIGINAL_DST} returns them. */
class SockaddrTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "an IPv4 address and port in network order | 0200 1F90 0ABE0202 0000000000000000 | 10.190.2.2 | 8080",
                "port 443 on 127.0.0.1                      | 0200 01BB 7F000001 0000000000000000 | 127.0.0.1  | 443",
                "an IPv6 address                            | 0A00 0050 00000000 20010DB8000000000000000000000001 00000000"
                        + " | 2001:db8::1 | 80",
            })
    void parses(String name, String hex, String ip, int port) throws Exception {
        assertThat(SocketOptions.parseSockaddr(bytes(hex)))
                .isEqualTo(new InetSocketAddress(InetAddress.getByName(ip), port));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "too short for any family | 0200 1F   | expected: >= 8",
                "an unknown family         | 0100 1F90 0A000001 | family 1 (expected: AF_INET or AF_INET6)",
            })
    void refuses(String name, String hex, String message) {
        assertThatThrownBy(() -> SocketOptions.parseSockaddr(bytes(hex))).hasMessageContaining(message);
    }

    static byte[] bytes(String hex) {
        String h = hex.replace(" ", "");
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
