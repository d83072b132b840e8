package io.ambit.policy.load;

import java.util.ArrayList;
import java.util.List;

/**
 * Errors found while reading one object. Readers keep going after an error so that one run reports
 * every problem of the object; the object is rejected when any was found.
 */
final class Problems {
    private final String file;
    private String object;
    private final List<LoadError> errors = new ArrayList<>();

    Problems(String file) {
        this.file = file;
    }

    void object(String object) {
        this.object = object;
    }

    void at(YamlNode node, String message) {
        errors.add(new LoadError(file, node.line(), object, node.path(), message));
    }

    void at(YamlNode node, String subPath, String message) {
        errors.add(new LoadError(file, node.line(), object, node.path() + subPath, message));
    }

    boolean any() {
        return !errors.isEmpty();
    }

    List<LoadError> errors() {
        return errors;
    }
}
