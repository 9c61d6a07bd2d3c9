using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>
/// One flat WeChat Pay v2 message: the children of <c>&lt;xml&gt;</c> in document order. Field names are
/// case-sensitive and unique. Every received field is kept, known or not, because signatures cover them all.
/// </summary>
public sealed class WeChatPayMessage : IReadOnlyCollection<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _fields;
    private readonly Dictionary<string, string> _index;

    public WeChatPayMessage()
        : this([])
    {
    }

    public WeChatPayMessage(IEnumerable<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        _fields = [];
        _index = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            Add(key, value);
        }
    }

    public int Count => _fields.Count;

    /// <summary>The value of <paramref name="name"/>, or null when absent.</summary>
    public string? this[string name] => _index.GetValueOrDefault(name);

    /// <summary>Adds a field; an empty or null value is skipped (WeChat treats empty as absent).</summary>
    public WeChatPayMessage Add(string name, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (string.IsNullOrEmpty(value))
        {
            return this;
        }
        if (!_index.TryAdd(name, value))
        {
            throw new ArgumentException($"Field '{name}' is already present.", nameof(name));
        }
        _fields.Add(new(name, value));
        return this;
    }

    public WeChatPayMessage Add(string name, long value) => Add(name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Sets a field, replacing any earlier value (used for <c>sign</c>).</summary>
    public WeChatPayMessage Set(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(value);
        if (_index.ContainsKey(name))
        {
            var i = _fields.FindIndex(f => f.Key == name);
            _fields[i] = new(name, value);
            _index[name] = value;
            return this;
        }
        return Add(name, value);
    }

    public bool TryGet(string name, [NotNullWhen(true)] out string? value) => _index.TryGetValue(name, out value);

    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>The value of a required field.</summary>
    /// <exception cref="WeChatPayProtocolException">the field is missing.</exception>
    public string GetRequired(string name) =>
        _index.TryGetValue(name, out var value)
            ? value
            : throw new WeChatPayProtocolException(WeChatPayRejectReason.MissingField, $"Field '{name}' is missing.");

    /// <summary>An integer field (amounts in fen, counts).</summary>
    /// <exception cref="WeChatPayProtocolException">the field is missing or not an integer.</exception>
    public long GetRequiredInt64(string name) =>
        TryGetInt64(name, out var value)
            ? value
            : throw new WeChatPayProtocolException(WeChatPayRejectReason.InvalidField, $"Field '{name}' is missing or not an integer.");

    public bool TryGetInt64(string name, out long value)
    {
        value = 0;
        return _index.TryGetValue(name, out var text)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>An optional integer field; null when absent.</summary>
    /// <exception cref="WeChatPayProtocolException">the field is present but not an integer.</exception>
    public long? GetOptionalInt64(string name)
    {
        if (!_index.ContainsKey(name))
        {
            return null;
        }
        return GetRequiredInt64(name);
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Signs the message in place: sets <c>sign</c> over every other field.</summary>
    public WeChatPayMessage SignWith(string apiKey, WeChatPaySignType signType) =>
        Set(WeChatPaySignature.SignField, WeChatPaySignature.Sign(this, apiKey, signType));

    /// <summary>True when the message's <c>sign</c> matches.</summary>
    public bool HasValidSignature(string apiKey, WeChatPaySignType signType) =>
        WeChatPaySignature.Verify(this, apiKey, signType);
}
