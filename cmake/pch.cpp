// Translation unit that only carries the precompiled header (src/vesselgan/pch.h).
