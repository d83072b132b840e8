package io.ambit.bench.ztunnel;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Opens a TCP connection to a target, either directly or through a SOCKS5 proxy (no authentication,
 * CONNECT to an IPv4 address: what ztunnel's SOCKS5 listener accepts). The caller closes the socket.
 */
final class Socks5 {
    private Socks5() {}

    /**
     * @param socks  the proxy, or null to connect directly
     * @param target an IPv4 address and port
     * @throws IOException when the proxy refuses (its reply code is in the message) or a connect fails
     */
    static Socket connect(InetSocketAddress socks, InetSocketAddress target, int timeoutMillis) throws IOException {
        var socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(timeoutMillis);
            socket.connect(socks != null ? socks : target, timeoutMillis);
            if (socks != null) {
                handshake(socket, target);
            }
            socket.setSoTimeout(0);
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static void handshake(Socket socket, InetSocketAddress target) throws IOException {
        if (!(target.getAddress() instanceof Inet4Address v4)) {
            throw new IOException("target " + target + " (expected: an IPv4 address)");
        }
        var out = socket.getOutputStream();
        var in = new DataInputStream(socket.getInputStream());
        byte[] ip = v4.getAddress();
        int port = target.getPort();
        // greeting (one method: no authentication) and CONNECT in one write: saves a round trip, as curl does
        out.write(new byte[] {5, 1, 0, 5, 1, 0, 1, ip[0], ip[1], ip[2], ip[3], (byte) (port >> 8), (byte) port});
        out.flush();
        byte[] method = new byte[2];
        in.readFully(method);
        if (method[0] != 5 || method[1] != 0) {
            throw new IOException("SOCKS5 method reply " + method[0] + "," + method[1] + " (expected 5,0)");
        }
        byte[] reply = new byte[4];
        in.readFully(reply);
        if (reply[1] != 0) {
            throw new IOException("SOCKS5 CONNECT to " + target + " refused: reply code " + reply[1]);
        }
        int rest =
                switch (reply[3]) {
                    case 1 -> 4 + 2;
                    case 4 -> 16 + 2;
                    case 3 -> in.readUnsignedByte() + 2;
                    default -> throw new IOException("SOCKS5 reply address type " + reply[3]);
                };
        in.readFully(new byte[rest]);
    }
}
