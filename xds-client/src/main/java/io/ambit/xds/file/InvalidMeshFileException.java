package io.ambit.xds.file;

import io.ambit.policy.load.LoadError;
import java.util.List;

/** A local mesh file that was refused, with every problem found in it (file, line, object, field). */
public final class InvalidMeshFileException extends Exception {
    private final List<LoadError> errors;

    public InvalidMeshFileException(List<LoadError> errors) {
        super(errors.stream()
                .map(LoadError::toString)
                .reduce((a, b) -> a + "\n" + b)
                .orElse("invalid mesh file"));
        this.errors = List.copyOf(errors);
    }

    /** Every problem, in file order within each kind of object. */
    public List<LoadError> errors() {
        return errors;
    }
}
