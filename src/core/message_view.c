/* message_view.c - one message as the viewer shows it (see message_view.h).
 *
 * First the kind: the content type checked against the shape the documentation gives it
 * (arb_message_kind); a shape that does not fit is "unknown", shown as JSON. Then one
 * renderer per kind. Everything taken from the message is escaped on the way out (html.h);
 * links are made only of web addresses (arb_url_web). Media links carry data-load, which
 * the viewer's script reads to load them on a click; without the script they are ordinary
 * links that open in a new tab. */
#include "arb/message_view.h"

#include "arb/html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_MAX 120 /* bytes of text a quote or a list line shows */
#define HOST_MAX 256
#define DUMP_PRETTY (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* ---- small helpers ---- */

static const char *str(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

static bool nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* The length of s cut to at most max bytes, not inside a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static void summary_text(struct arb_buf *out, const char *s)
{
    size_t n = cut_len(s, SUMMARY_MAX);
    arb_html_text(out, s, n);
    if (n < strlen(s))
        arb_buf_puts(out, "\xE2\x80\xA6"); /* ... */
}

/* ---- kinds ---- */

static bool is_media(json_t *content)
{
    return str(json_object_get(content, "media"), "origin_url") != NULL;
}

/* What a message is, from its content type and shape; "unknown" when the shape does not
 * fit, "event" for a record without a message. */
const char *arb_message_kind(json_t *message)
{
    if (message == NULL)
        return "event";
    json_t *content = json_object_get(message, "content");
    const char *type = str(content, "type");
    if (type == NULL)
        return "unknown";
    if (strcmp(type, "text") == 0)
        return str(content, "text") != NULL ? "text" : "unknown";
    if (strcmp(type, "image") == 0 || strcmp(type, "video") == 0 ||
        strcmp(type, "audio") == 0 || strcmp(type, "file") == 0)
        return is_media(content) ? type : "unknown";
    if (strcmp(type, "template") == 0) {
        json_t *template = json_object_get(content, "template");
        return json_is_object(json_object_get(template, "content")) ||
                       json_is_object(json_object_get(template, "ins_content"))
                   ? "template"
                   : "unknown";
    }
    if (strcmp(type, "interactive") == 0) {
        json_t *interactive = json_object_get(content, "interactive");
        const char *itype = str(interactive, "type");
        if (itype == NULL)
            return str(content, "text") != NULL ? "interactive.text" : "unknown";
        if (strcmp(itype, "button") == 0)
            return json_is_array(json_object_get(json_object_get(interactive, "action"), "buttons"))
                       ? "interactive.button"
                       : "unknown";
        if (strcmp(itype, "list") == 0)
            return json_is_array(json_object_get(json_object_get(interactive, "action"), "sections"))
                       ? "interactive.list"
                       : "unknown";
        if (strcmp(itype, "list_reply") == 0)
            return str(json_object_get(interactive, "list_reply"), "title") != NULL
                       ? "interactive.list_reply"
                       : "unknown";
        if (strcmp(itype, "button_reply") == 0)
            return str(json_object_get(interactive, "button_reply"), "title") != NULL
                       ? "interactive.button_reply"
                       : "unknown";
        return "unknown";
    }
    if (strcmp(type, "button") == 0)
        return str(content, "text") != NULL ? "button" : "unknown";
    if (strcmp(type, "system") == 0)
        return str(json_object_get(content, "system"), "type") != NULL ? "system" : "unknown";
    return "unknown";
}

/* A one-line description of a message's content, for quotes and lists. */
void arb_message_summary_html(struct arb_buf *out, json_t *message)
{
    json_t *content = json_object_get(message, "content");
    json_t *interactive = json_object_get(content, "interactive");
    const char *kind = arb_message_kind(message), *text = NULL;
    char name[256];

    if (strcmp(kind, "text") == 0 || strcmp(kind, "button") == 0 ||
        strcmp(kind, "interactive.text") == 0) {
        text = str(content, "text");
    } else if (strcmp(kind, "image") == 0) {
        text = "Image";
    } else if (strcmp(kind, "video") == 0) {
        text = "Video";
    } else if (strcmp(kind, "audio") == 0) {
        text = "Audio";
    } else if (strcmp(kind, "file") == 0) {
        const char *given = str(json_object_get(content, "media"), "name");
        arb_url_file_name(str(json_object_get(content, "media"), "origin_url"), name, sizeof(name));
        arb_buf_puts(out, "File ");
        text = nonempty(given) ? given : name;
    } else if (strcmp(kind, "template") == 0) {
        json_t *template = json_object_get(content, "template");
        text = str(json_object_get(template, "content"), "body");
        if (text == NULL)
            text = "Template";
    } else if (strncmp(kind, "interactive.", 12) == 0) {
        text = str(json_object_get(interactive, "body"), "text");
        if (text == NULL)
            text = str(json_object_get(interactive, "list_reply"), "title");
        if (text == NULL)
            text = str(json_object_get(interactive, "button_reply"), "title");
    } else if (strcmp(kind, "system") == 0) {
        text = str(json_object_get(content, "system"), "type");
    } else if (message == NULL) {
        text = "(an event without messages)";
    } else {
        arb_buf_puts(out, "Content type ");
        text = nonempty(str(content, "type")) ? str(content, "type") : "(none)";
    }
    summary_text(out, text != NULL ? text : "");
}

/* ---- rendering ---- */

static void text_block(struct arb_buf *out, const char *class, const char *text)
{
    if (!nonempty(text))
        return;
    arb_buf_printf(out, "<p class=\"%s\">", class);
    arb_html_puts(out, text);
    arb_buf_puts(out, "</p>");
}

void arb_message_json_html(struct arb_buf *out, json_t *value)
{
    char *text = value != NULL ? json_dumps(value, DUMP_PRETTY | JSON_ENCODE_ANY) : NULL;
    arb_buf_puts(out, "<pre class=\"json\">");
    arb_html_puts(out, text != NULL ? text : "null");
    arb_buf_puts(out, "</pre>");
    free(text);
}

/* A remote image, video or audio: a link naming the host; https ones are loaded in place by
 * the viewer's script on a click (data-load), http ones only open (the page's policy would
 * block them). */
static void media_link(struct arb_buf *out, const char *kind, const char *label,
                       const char *url)
{
    char host[HOST_MAX];
    arb_buf_printf(out, "<div class=\"media media-%s\">", kind);
    if (!arb_url_web(url, host, sizeof(host))) {
        arb_buf_printf(out, "<span class=\"bad-url\">%s at an address that is not a web link: "
                            "<code>", label);
        arb_html_puts(out, url);
        arb_buf_puts(out, "</code></span></div>");
        return;
    }
    arb_buf_puts(out, "<a class=\"remote\" href=\"");
    arb_html_attr(out, url);
    arb_buf_puts(out, "\" target=\"_blank\" rel=\"noopener noreferrer nofollow\"");
    if (strncmp(url, "https://", 8) == 0)
        arb_buf_printf(out, " data-load=\"%s\"", kind);
    arb_buf_puts(out, " data-host=\"");
    arb_html_attr(out, host);
    arb_buf_printf(out, "\">%s on <b class=\"host\">", label);
    arb_html_puts(out, host);
    arb_buf_puts(out, "</b></a> <span class=\"hint\">not loaded: click to show</span></div>");
}

static void file_link(struct arb_buf *out, json_t *media)
{
    char host[HOST_MAX], name[256];
    const char *url = str(media, "origin_url"), *given = str(media, "name");
    arb_url_file_name(url, name, sizeof(name));
    const char *shown = nonempty(given) ? given : nonempty(name) ? name : "file";
    arb_buf_puts(out, "<div class=\"file\">");
    if (!arb_url_web(url, host, sizeof(host))) {
        arb_html_puts(out, shown);
        arb_buf_puts(out, " <span class=\"bad-url\">at an address that is not a web link: <code>");
        arb_html_puts(out, url);
        arb_buf_puts(out, "</code></span></div>");
        return;
    }
    arb_buf_puts(out, "<a class=\"file-link\" href=\"");
    arb_html_attr(out, url);
    arb_buf_puts(out, "\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">");
    arb_html_puts(out, shown);
    arb_buf_puts(out, "</a> <span class=\"host\">on ");
    arb_html_puts(out, host);
    arb_buf_puts(out, "</span></div>");
}

/* Buttons: each item's caption at one of the paths given (e.g. "text", or "reply" then
 * "title"), with its type when it has one. */
static void buttons_list(struct arb_buf *out, json_t *buttons, const char *outer,
                         const char *caption)
{
    size_t i;
    json_t *button;
    if (!json_is_array(buttons) || json_array_size(buttons) == 0)
        return;
    arb_buf_puts(out, "<ul class=\"buttons\">");
    json_array_foreach(buttons, i, button) {
        json_t *holder = outer != NULL ? json_object_get(button, outer) : button;
        const char *title = str(holder, caption), *type = str(button, "type");
        arb_buf_puts(out, "<li class=\"button\"");
        if (nonempty(type)) {
            arb_buf_puts(out, " title=\"");
            arb_html_attr(out, type);
            arb_buf_puts(out, "\"");
        }
        arb_buf_puts(out, ">");
        arb_html_puts(out, title != NULL ? title : "(no caption)");
        arb_buf_puts(out, "</li>");
    }
    arb_buf_puts(out, "</ul>");
}

static void template_header(struct arb_buf *out, json_t *header)
{
    const char *type = str(header, "type");
    json_t *media = json_object_get(header, "media");
    if (type == NULL)
        return;
    if (strcmp(type, "text") == 0) {
        text_block(out, "t-header", str(header, "text"));
    } else if ((strcmp(type, "image") == 0 || strcmp(type, "video") == 0) &&
               str(media, "origin_url") != NULL) {
        media_link(out, type, strcmp(type, "image") == 0 ? "Header image" : "Header video",
                   str(media, "origin_url"));
    } else if (str(media, "origin_url") != NULL) {
        file_link(out, media);
    } else {
        arb_message_json_html(out, header);
    }
}

static void template_whatsapp(struct arb_buf *out, json_t *template)
{
    json_t *content = json_object_get(template, "content"), *info = json_object_get(template, "info");
    template_header(out, json_object_get(content, "header"));
    text_block(out, "text t-body", str(content, "body"));
    text_block(out, "t-footer", str(content, "footer"));
    buttons_list(out, json_object_get(content, "button"), NULL, "text");
    buttons_list(out, json_object_get(content, "buttons"), NULL, "text");
    if (json_is_object(info)) {
        arb_buf_puts(out, "<p class=\"t-info\">Template ");
        arb_html_puts(out, nonempty(str(info, "name")) ? str(info, "name") : "(unnamed)");
        if (nonempty(str(info, "language"))) {
            arb_buf_puts(out, " &middot; ");
            arb_html_puts(out, str(info, "language"));
        }
        arb_buf_puts(out, "</p>");
    }
}

static void template_instagram(struct arb_buf *out, json_t *template)
{
    json_t *payload = json_object_get(json_object_get(template, "ins_content"), "payload");
    json_t *elements = json_object_get(payload, "elements"), *element;
    size_t i;
    if (!json_is_array(elements)) {
        arb_message_json_html(out, template);
        return;
    }
    json_array_foreach(elements, i, element) {
        arb_buf_puts(out, "<div class=\"card\">");
        const char *image = str(element, "image_url");
        if (image != NULL)
            media_link(out, "image", "Image", image);
        text_block(out, "t-title", str(element, "title"));
        text_block(out, "t-subtitle", str(element, "subtitle"));
        buttons_list(out, json_object_get(element, "buttons"), NULL, "title");
        arb_buf_puts(out, "</div>");
    }
}

static void render_template(struct arb_buf *out, json_t *content)
{
    json_t *template = json_object_get(content, "template");
    const char *type = str(template, "type");
    arb_buf_puts(out, "<div class=\"template\" data-template=\"");
    arb_html_attr(out, type != NULL ? type : "");
    arb_buf_puts(out, "\">");
    if (json_is_object(json_object_get(template, "content")))
        template_whatsapp(out, template);
    else
        template_instagram(out, template);
    arb_buf_puts(out, "</div>");
}

static void render_list(struct arb_buf *out, json_t *action)
{
    json_t *sections = json_object_get(action, "sections"), *section, *row;
    size_t i, j;
    text_block(out, "list-button", str(action, "button"));
    arb_buf_puts(out, "<div class=\"sections\">");
    json_array_foreach(sections, i, section) {
        arb_buf_puts(out, "<section>");
        text_block(out, "section-title", str(section, "title"));
        arb_buf_puts(out, "<ul class=\"rows\">");
        json_array_foreach(json_object_get(section, "rows"), j, row) {
            arb_buf_puts(out, "<li class=\"row\"><span class=\"row-title\">");
            arb_html_puts(out, str(row, "title") != NULL ? str(row, "title") : "(no title)");
            arb_buf_puts(out, "</span>");
            if (nonempty(str(row, "description"))) {
                arb_buf_puts(out, " <span class=\"row-desc\">");
                arb_html_puts(out, str(row, "description"));
                arb_buf_puts(out, "</span>");
            }
            arb_buf_puts(out, "</li>");
        }
        arb_buf_puts(out, "</ul></section>");
    }
    arb_buf_puts(out, "</div>");
}

static void render_interactive(struct arb_buf *out, const char *kind, json_t *content)
{
    json_t *interactive = json_object_get(content, "interactive");
    json_t *action = json_object_get(interactive, "action");
    arb_buf_puts(out, "<div class=\"interactive\">");
    if (strcmp(kind, "interactive.text") == 0) {
        text_block(out, "text choice", str(content, "text"));
    } else if (strcmp(kind, "interactive.list_reply") == 0 ||
               strcmp(kind, "interactive.button_reply") == 0) {
        json_t *reply = json_object_get(interactive, kind + 12);
        arb_buf_puts(out, "<p class=\"choice\">");
        arb_html_puts(out, str(reply, "title"));
        arb_buf_puts(out, "</p>");
        text_block(out, "row-desc", str(reply, "description"));
    } else {
        json_t *header = json_object_get(interactive, "header");
        if (json_is_object(header))
            template_header(out, header);
        text_block(out, "text", str(json_object_get(interactive, "body"), "text"));
        text_block(out, "t-footer", str(json_object_get(interactive, "footer"), "text"));
        if (strcmp(kind, "interactive.button") == 0)
            buttons_list(out, json_object_get(action, "buttons"), "reply", "title");
        else
            render_list(out, action);
    }
    arb_buf_puts(out, "</div>");
}

static void render_system(struct arb_buf *out, json_t *content)
{
    json_t *system = json_object_get(content, "system");
    arb_buf_puts(out, "<p class=\"system\">");
    arb_html_puts(out, str(system, "type"));
    const char *from = str(system, "from_seat_id"), *to = str(system, "to_seat_id");
    if (nonempty(from)) {
        arb_buf_puts(out, " &middot; from seat ");
        arb_html_puts(out, from);
    }
    if (nonempty(to)) {
        arb_buf_puts(out, " &middot; to seat ");
        arb_html_puts(out, to);
    }
    arb_buf_puts(out, "</p>");
}

void arb_message_html(struct arb_buf *out, json_t *message)
{
    const char *kind = arb_message_kind(message);
    json_t *content = json_object_get(message, "content");
    if (strcmp(kind, "text") == 0) {
        text_block(out, "text", str(content, "text"));
    } else if (strcmp(kind, "image") == 0) {
        media_link(out, "image", "Image", str(json_object_get(content, "media"), "origin_url"));
    } else if (strcmp(kind, "video") == 0) {
        media_link(out, "video", "Video", str(json_object_get(content, "media"), "origin_url"));
    } else if (strcmp(kind, "audio") == 0) {
        media_link(out, "audio", "Audio", str(json_object_get(content, "media"), "origin_url"));
    } else if (strcmp(kind, "file") == 0) {
        file_link(out, json_object_get(content, "media"));
    } else if (strcmp(kind, "template") == 0) {
        render_template(out, content);
    } else if (strncmp(kind, "interactive.", 12) == 0) {
        render_interactive(out, kind, content);
    } else if (strcmp(kind, "button") == 0) {
        arb_buf_puts(out, "<p class=\"choice button-reply\">");
        arb_html_puts(out, str(content, "text"));
        arb_buf_puts(out, "</p>");
    } else if (strcmp(kind, "system") == 0) {
        render_system(out, content);
    } else {
        const char *type = str(content, "type");
        arb_buf_puts(out, "<details class=\"unknown\" open><summary>Content type ");
        if (type != NULL) {
            arb_buf_puts(out, "&ldquo;");
            arb_html_puts(out, type);
            arb_buf_puts(out, "&rdquo;");
        } else {
            arb_buf_puts(out, "not given");
        }
        arb_buf_puts(out, ", shown as JSON</summary>");
        arb_message_json_html(out, content != NULL ? content : message);
        arb_buf_puts(out, "</details>");
    }
}

