package io.ambit.policy.load;

import java.util.ArrayList;
import java.util.List;

/**
 * Errors found while reading one object. Readers keep going after an error so that one run reports
 * every problem of the object; the object is rejected when any was found. Public for other Ambit
 * loaders, so that every file reports errors the same way.
 */
public final class Problems {
    /**
     * Longest message kept whole. Messages quote the value that was wrong, and a value can be anything a file
     * holds — a whole document read as one scalar: a longer one keeps its start (what was wrong) and its end
     * (what was expected), not megabytes of the user's file in a log line.
     */
    static final int MAX_MESSAGE = 400;

    private final String file;
    private String object;
    private final List<LoadError> errors = new ArrayList<>();

    /** @param file the file name used in every error */
    public Problems(String file) {
        this.file = file;
    }

    /** Names the object ({@code Kind namespace/name}) that later errors are about. */
    public void object(String object) {
        this.object = object;
    }

    /** Records an error at a node: its line and field path. */
    public void at(YamlNode node, String message) {
        errors.add(new LoadError(file, node.line(), object, node.path(), bounded(message)));
    }

    /** Records an error at a field below a node, e.g. a missing {@code .name}. */
    public void at(YamlNode node, String subPath, String message) {
        errors.add(new LoadError(file, node.line(), object, node.path() + subPath, bounded(message)));
    }

    /** {@code message}, or its first 250 and last 120 characters around a note of how much was left out. */
    static String bounded(String message) {
        if (message.length() <= MAX_MESSAGE) {
            return message;
        }
        int head = 250;
        int tail = 120;
        return message.substring(0, head) + "… (" + (message.length() - head - tail) + " characters left out) …"
                + message.substring(message.length() - tail);
    }

    /** Whether any error was recorded. */
    public boolean any() {
        return !errors.isEmpty();
    }

    /** The errors recorded so far, in order. */
    public List<LoadError> errors() {
        return errors;
    }
}
