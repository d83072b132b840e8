package io.ambit.policy.load;

import java.util.ArrayDeque;
import java.util.Deque;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.ReaderException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The line of a YAML problem that snakeyaml-engine reports without a line (found by MeshFileFuzzTest: a
 * refused file named no line). Its reader refuses a control character with a {@link ReaderException} that
 * carries only a code-point offset; its composer refuses a mapping key that is itself a map or a list
 * ({@code ? [a]: b}, {@code {a: b}: c}) with a plain {@link YamlEngineException} and no mark at all, so the
 * parser's events are replayed (linear, no node is built) to find that key.
 */
public final class YamlErrorLine {
    private YamlErrorLine() {}

    /** The 1-based line of an unmarked problem in {@code text}, or 0 when it cannot be told. */
    public static int of(String text, YamlEngineException e) {
        if (e instanceof ReaderException r) {
            return lineAtCodePoint(text, r.getPosition());
        }
        return ofNonScalarKey(text);
    }

    private static int lineAtCodePoint(String text, int codePoints) {
        if (codePoints < 0) {
            return 0;
        }
        int line = 1;
        int i = 0;
        for (int seen = 0; seen < codePoints && i < text.length(); seen++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
            i += Character.charCount(text.codePointAt(i));
        }
        return line;
    }

    /**
     * The 1-based line of the first mapping key that is a map or a list, or 0 when there is none (or the
     * text does not even parse that far).
     */
    public static int ofNonScalarKey(String text) {
        Deque<Open> open = new ArrayDeque<>();
        LoadSettings settings = LoadSettings.builder().build();
        try {
            for (Event e : new Parse(settings).parseString(text)) {
                switch (e.getEventId()) {
                    case MappingStart, SequenceStart -> {
                        if (!open.isEmpty() && open.peek().awaitsKey) {
                            return e.getStartMark().map(m -> m.getLine() + 1).orElse(0);
                        }
                        open.push(new Open(e.getEventId() == Event.ID.MappingStart));
                    }
                    case MappingEnd, SequenceEnd -> {
                        open.pop();
                        completed(open);
                    }
                    case Scalar, Alias -> completed(open);
                    default -> {
                        // stream and document events do not change which position is a key
                    }
                }
            }
        } catch (YamlEngineException | java.util.NoSuchElementException e) {
            return 0;
        }
        return 0;
    }

    // A node finished inside the innermost open collection: in a mapping, a key is followed by a value
    // and a value by the next key.
    private static void completed(Deque<Open> open) {
        if (!open.isEmpty() && open.peek().mapping) {
            open.peek().awaitsKey = !open.peek().awaitsKey;
        }
    }

    /** One open collection; a mapping alternates between waiting for a key and for its value. */
    private static final class Open {
        final boolean mapping;
        boolean awaitsKey;

        Open(boolean mapping) {
            this.mapping = mapping;
            this.awaitsKey = mapping;
        }
    }
}
