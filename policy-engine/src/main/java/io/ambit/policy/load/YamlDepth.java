package io.ambit.policy.load;

/**
 * Refuses YAML nested deeper than any policy needs, before the parser sees it: the parser recurses per
 * level and a few kilobytes of {@code [[[[...} would otherwise overflow the stack. Public for other Ambit
 * loaders.
 */
public final class YamlDepth {
    /** Deepest flow nesting (opening brackets and braces) accepted. */
    public static final int MAX_FLOW_DEPTH = 64;
    /** Deepest block indentation accepted. */
    public static final int MAX_INDENT = 512;

    private YamlDepth() {}

    /** Returns the 1-based line where the text nests too deeply, or 0 when it is fine. */
    public static int tooDeep(String text) {
        int depth = 0;
        int line = 1;
        int indent = 0;
        boolean lineStart = true;
        char quote = 0;
        boolean comment = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
                lineStart = true;
                indent = 0;
                comment = false;
                if (quote == '\'') {
                    continue; // single-quoted scalars may span lines
                }
                continue;
            }
            if (comment) {
                continue;
            }
            if (lineStart) {
                if (c == ' ' || c == '-') {
                    // block sequences nest with "- - - x" as well as with indentation
                    if (++indent > MAX_INDENT) {
                        return line;
                    }
                    continue;
                }
                lineStart = false;
            }
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            switch (c) {
                case '"', '\'' -> quote = c;
                case '#' -> comment = i == 0 || Character.isWhitespace(text.charAt(i - 1));
                case '[', '{' -> {
                    if (++depth > MAX_FLOW_DEPTH) {
                        return line;
                    }
                }
                case ']', '}' -> depth = Math.max(0, depth - 1);
                default -> {}
            }
        }
        return 0;
    }
}
