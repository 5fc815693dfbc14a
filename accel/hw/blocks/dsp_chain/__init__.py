"""FlightLLM's configurable sparse DSP chain as an RTL block (``accel rtl ... dsp-chain``)."""
