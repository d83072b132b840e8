package io.ambit.waypoint.telemetry;

/** Builds one JSON object on one line, escaping strings; no library, no intermediate tree. */
final class JsonLine {
    private final StringBuilder out = new StringBuilder(512).append('{');
    private boolean first = true;

    JsonLine field(String name, String value) {
        key(name);
        if (value == null) {
            out.append("null");
        } else {
            string(value);
        }
        return this;
    }

    JsonLine field(String name, long value) {
        key(name);
        out.append(value);
        return this;
    }

    JsonLine field(String name, double value) {
        key(name);
        out.append(value);
        return this;
    }

    private void key(String name) {
        if (!first) {
            out.append(',');
        }
        first = false;
        string(name);
        out.append(':');
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return out + "}";
    }
}
