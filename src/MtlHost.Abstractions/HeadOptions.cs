namespace MtlHost.Abstractions;

/// <summary>What a head needs to know about the encoder it sits on.</summary>
/// <param name="HiddenSize">Width <c>H</c> of the encoder's hidden states.</param>
/// <param name="Dropout">Dropout probability the encoder uses; heads usually apply the same before their classifier.</param>
public sealed record HeadOptions(int HiddenSize, double Dropout);
