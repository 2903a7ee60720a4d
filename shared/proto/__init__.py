"""Generated from proto/palisade/v1 by palisade.shared.protogen; do not edit."""
