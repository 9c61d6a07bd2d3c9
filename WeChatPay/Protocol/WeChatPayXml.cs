using System.Buffers;
using System.Text;
using System.Xml;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>
/// The flat XML envelope of APIv2 (<c>&lt;xml&gt;&lt;field&gt;value&lt;/field&gt;…&lt;/xml&gt;</c>). Reading
/// prohibits DTDs, resolves nothing and caps the size; writing puts every value in CDATA.
/// </summary>
public static class WeChatPayXml
{
    public const string RootName = "xml";

    /// <summary>The default cap for a message body (the notify endpoints' 64 KiB).</summary>
    public const int DefaultMaxBytes = 64 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses a flat message whose root element is <paramref name="rootName"/>.</summary>
    /// <exception cref="WeChatPayProtocolException">oversize, DTD, malformed or nested XML, duplicate fields.</exception>
    public static WeChatPayMessage Parse(ReadOnlySpan<byte> utf8, int maxBytes = DefaultMaxBytes, string rootName = RootName)
    {
        if (utf8.Length > maxBytes)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.Oversize, $"Message exceeds {maxBytes} bytes.");
        }
        if (utf8.IsEmpty)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.Malformed, "Message is empty.");
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException ex)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.Malformed, "Message is not valid UTF-8.", ex);
        }
        return ParseText(text, maxBytes, rootName);
    }

    /// <summary>Parses a flat message from text (a decrypted <c>req_info</c>, a test fixture).</summary>
    /// <exception cref="WeChatPayProtocolException">oversize, DTD, malformed or nested XML, duplicate fields.</exception>
    public static WeChatPayMessage Parse(string text, int maxBytes = DefaultMaxBytes, string rootName = RootName)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > maxBytes)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.Oversize, $"Message exceeds {maxBytes} characters.");
        }
        return ParseText(text, maxBytes, rootName);
    }

    /// <summary>
    /// Reads a request or response body of at most <paramref name="maxBytes"/> bytes, stopping as soon as
    /// the cap is passed so an oversize body is never buffered whole.
    /// </summary>
    /// <exception cref="WeChatPayProtocolException">the body is larger than <paramref name="maxBytes"/>.</exception>
    public static async Task<byte[]> ReadBodyAsync(Stream body, int maxBytes = DefaultMaxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxBytes + 1, 16 * 1024));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes)
                    {
                        break;
                    }
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, maxBytes + 1) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                length += read;
                if (length > maxBytes)
                {
                    break;
                }
            }
            if (length > maxBytes)
            {
                throw new WeChatPayProtocolException(WeChatPayRejectReason.Oversize, $"Body exceeds {maxBytes} bytes.");
            }
            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes <paramref name="fields"/> as <c>&lt;xml&gt;</c> with CDATA values; empty values are skipped.</summary>
    public static string Serialize(IEnumerable<KeyValuePair<string, string>> fields, string rootName = RootName)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var builder = new StringBuilder(512);
        builder.Append('<').Append(rootName).Append('>');
        foreach (var (name, value) in fields)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }
            XmlConvert.VerifyNCName(name);
            XmlConvert.VerifyXmlChars(value);
            builder.Append('<').Append(name).Append("><![CDATA[")
                .Append(value.Replace("]]>", "]]]]><![CDATA[>", StringComparison.Ordinal))
                .Append("]]></").Append(name).Append('>');
        }
        return builder.Append("</").Append(rootName).Append('>').ToString();
    }

    public static byte[] SerializeToUtf8(IEnumerable<KeyValuePair<string, string>> fields, string rootName = RootName) =>
        Encoding.UTF8.GetBytes(Serialize(fields, rootName));

    private static WeChatPayMessage ParseText(string text, int maxBytes, string rootName)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
            MaxCharactersInDocument = maxBytes,
            MaxCharactersFromEntities = 0,
            CloseInput = true,
        };
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), settings);
            reader.MoveToContent();
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName != rootName || reader.NamespaceURI.Length != 0)
            {
                throw new WeChatPayProtocolException(WeChatPayRejectReason.Malformed, $"Root element must be <{rootName}>.");
            }
            var message = new WeChatPayMessage();
            if (reader.IsEmptyElement)
            {
                reader.Read();
            }
            else
            {
                reader.Read();
                while (reader.NodeType != XmlNodeType.EndElement)
                {
                    if (reader.NodeType != XmlNodeType.Element)
                    {
                        throw new WeChatPayProtocolException(WeChatPayRejectReason.Malformed, "Text outside a field element.");
                    }
                    var name = reader.LocalName;
                    var value = reader.ReadElementContentAsString();
                    if (message.Contains(name))
                    {
                        throw new WeChatPayProtocolException(WeChatPayRejectReason.Malformed, $"Field '{name}' appears twice.");
                    }
                    message.Add(name, value);
                }
                reader.Read();
            }
            while (reader.Read())
            {
                // Reading to the end surfaces a second root or trailing garbage as an XmlException.
            }
            return message;
        }
        catch (XmlException ex)
        {
            var reason = text.Contains("<!DOCTYPE", StringComparison.Ordinal)
                ? WeChatPayRejectReason.DtdProhibited
                : WeChatPayRejectReason.Malformed;
            throw new WeChatPayProtocolException(reason, reason == WeChatPayRejectReason.DtdProhibited
                ? "XML with a DTD is refused."
                : $"Malformed XML: {ex.Message}", ex);
        }
    }
}
