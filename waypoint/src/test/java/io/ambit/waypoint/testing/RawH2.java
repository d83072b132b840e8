package io.ambit.waypoint.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-made HTTP/2 frames, for what a conforming client library refuses to send. */
public final class RawH2 {
    public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    public static final int DATA = 0;
    public static final int HEADERS = 1;
    public static final int RST_STREAM = 3;
    public static final int SETTINGS = 4;
    public static final int GOAWAY = 7;
    public static final int CONTINUATION = 9;
    public static final int END_STREAM = 0x1;
    public static final int END_HEADERS = 0x4;

    private RawH2() {}

    /** One frame. */
    public static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24 & 0x7f);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** HPACK: {@code :method method}, {@code :scheme http}, {@code :path path}, {@code :authority httpbin}, extras. */
    public static byte[] requestBlock(String method, String path, String... nameValues) {
        var b = new ByteArrayOutputStream();
        b.write(method.equals("GET") ? 0x82 : 0x83); // static table: :method GET / POST
        b.write(0x86); // :scheme http
        literal(b, 4, path); // :path
        literal(b, 1, "httpbin"); // :authority
        for (int i = 0; i < nameValues.length; i += 2) {
            b.write(0x00); // literal without indexing, new name
            string(b, nameValues[i]);
            string(b, nameValues[i + 1]);
        }
        return b.toByteArray();
    }

    /** A literal header without indexing whose name is static-table entry {@code index} (< 15). */
    private static void literal(ByteArrayOutputStream b, int index, String value) {
        b.write(index);
        string(b, value);
    }

    private static void string(ByteArrayOutputStream b, String s) {
        byte[] v = s.getBytes(StandardCharsets.US_ASCII);
        if (v.length < 127) {
            b.write(v.length);
        } else {
            b.write(127);
            int rest = v.length - 127;
            while (rest >= 128) {
                b.write((rest & 0x7f) | 0x80);
                rest >>>= 7;
            }
            b.write(rest);
        }
        b.writeBytes(v);
    }

    /** The connection preface and an empty SETTINGS. */
    public static void open(OutputStream out) throws IOException {
        out.write(PREFACE);
        out.write(frame(SETTINGS, 0, 0, new byte[0]));
    }

    /** A frame read from the server. */
    public record Frame(int type, int flags, int stream, byte[] payload) {
        /** The error code of a GOAWAY or RST_STREAM. */
        public int errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return (payload[at] & 0xff) << 24
                    | (payload[at + 1] & 0xff) << 16
                    | (payload[at + 2] & 0xff) << 8
                    | (payload[at + 3] & 0xff);
        }
    }

    public static Frame read(DataInputStream in) throws IOException {
        int len = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[len];
        in.readFully(payload);
        return new Frame(type, flags, stream, payload);
    }
}
